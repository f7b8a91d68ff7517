using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.Contracts;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Changes;

/// <summary>
/// Reading a chat's change log: <c>GET /api/chats/{chatId}/changes</c> (members; the gateways fill
/// gaps and resume from it) and <c>POST /internal/chats/revs</c> (gateways reconcile their chats).
/// </summary>
public static class ChangesApi
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapChangesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/chats/{chatId}/changes", GetChangesAsync)
            .RequireAuthorization()
            .WithTags("Changes")
            .WithName("GetChanges")
            .WithSummary("The chat's changes after a rev (or after the creation of a seq), ascending by rev")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/internal/chats/revs", GetRevsAsync)
            // Internal (not proxied): any signed-in caller; it reveals only counters of chats whose ids it knows.
            .RequireAuthorization()
            .WithTags("Internal")
            .WithName("GetChatRevs")
            .WithSummary("The latest rev of each chat asked for (gateway reconciliation)")
            .ProducesValidationProblem();
        return app;
    }

    /// <summary>
    /// <c>afterRev</c>: the changes after it. <c>afterSeq</c> (YAC's addition, for resume by seq): the
    /// changes from the one that created the first message after that seq; nothing when there is none.
    /// </summary>
    public static async Task<Results<Ok<ChangePage>, ValidationProblem, ProblemHttpResult>> GetChangesAsync(
        Guid chatId, long? afterRev, long? afterSeq, int? limit, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (afterRev < 0)
        {
            errors["afterRev"] = ["afterRev must be 0 or more."];
        }

        if (afterSeq < 0)
        {
            errors["afterSeq"] = ["afterSeq must be 0 or more."];
        }

        if (afterRev is not null && afterSeq is not null)
        {
            errors["afterSeq"] = ["Give afterRev or afterSeq, not both."];
        }

        if (limit is < 1 or > MaxPageSize)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var access = await ChatAccess.FindAsync(db, chatId, user.GetUserId(), cancellationToken);
        if (access is not { IsMember: true })
        {
            return ChatAccess.Refused(access, "Only members can read this chat's changes.");
        }

        var from = afterRev ?? 0;
        if (afterSeq is { } seq)
        {
            if (await ChangeReader.RevBeforeSeqAsync(db, chatId, seq, cancellationToken) is not { } before)
            {
                return TypedResults.Ok(new ChangePage([], HasMore: false));
            }

            from = before;
        }

        var (changes, hasMore) = await ChangeReader.ReadAsync(db, chatId, from, limit ?? DefaultPageSize, cancellationToken);
        return TypedResults.Ok(new ChangePage([.. changes.Select(change => JsonSerializer.Deserialize<JsonElement>(change.Frame))], hasMore));
    }

    public static async Task<Results<Ok<ChatRevsResponse>, ValidationProblem>> GetRevsAsync(
        ChatRevsRequest request, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (request.ChatIds is not { Count: <= ChatRevsRequest.MaxChatIds } chatIds)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["chatIds"] = [$"Between 0 and {ChatRevsRequest.MaxChatIds} chat ids."],
            });
        }

        var ids = chatIds.Distinct().ToArray();
        var revs = await db.Chats.AsNoTracking()
            .Where(chat => ids.Contains(chat.Id))
            .Select(chat => new { chat.Id, chat.Rev })
            .ToDictionaryAsync(chat => chat.Id, chat => chat.Rev, cancellationToken);
        return TypedResults.Ok(new ChatRevsResponse(revs));
    }
}
