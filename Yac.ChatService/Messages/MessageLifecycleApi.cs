using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Yac.ChatService.Chats;
using Yac.ChatService.Limits;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Messages;

/// <summary>
/// What happens to a message after it is sent: edits, deletes, reactions and its earlier versions,
/// <c>/api/chats/{chatId}/messages/{seq}</c>. Each change is a <c>messageUpdated</c> change of the chat's log.
/// </summary>
public static class MessageLifecycleApi
{
    public static IEndpointRouteBuilder MapMessageLifecycleApi(this IEndpointRouteBuilder app)
    {
        var message = app.MapGroup("/api/chats/{chatId}/messages/{seq}")
            .RequireAuthorization()
            .WithTags("Messages")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

        message.MapPatch(string.Empty, EditAsync)
            .WithName("EditMessage")
            .WithSummary("Change the text of your own message")
            .RequireRateLimiting(ChatRateLimits.Sends)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict);
        message.MapDelete(string.Empty, DeleteAsync)
            .WithName("DeleteMessage")
            .WithSummary("Delete a message (yours, or any as an owner or admin of a group); a tombstone stays")
            .RequireRateLimiting(ChatRateLimits.Sends)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        message.MapPut("/reactions/{emoji}", AddReactionAsync)
            .WithName("AddReaction")
            .WithSummary("React with an emoji (idempotent)")
            .RequireRateLimiting(ChatRateLimits.Sends)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict);
        message.MapDelete("/reactions/{emoji}", RemoveReactionAsync)
            .WithName("RemoveReaction")
            .WithSummary("Take your reaction back (idempotent)")
            .RequireRateLimiting(ChatRateLimits.Sends)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        message.MapGet("/versions", GetVersionsAsync)
            .WithName("GetMessageVersions")
            .WithSummary("The message's earlier texts, oldest first (none once deleted)")
            .RequireRateLimiting(ChatRateLimits.Reads)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    public static async Task<Results<Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> EditAsync(
        Guid chatId, long seq, EditMessageRequest request, ClaimsPrincipal user, MessageLifecycleStore store, CancellationToken cancellationToken)
        => await store.EditAsync(chatId, seq, user.GetUserId(), request.Text, cancellationToken) switch
        {
            LifecycleOutcome.Done(var message) => TypedResults.Ok(message),
            var refused => Refused<Ok<MessageResponse>>(refused, "Only members can edit this chat's messages."),
        };

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        Guid chatId, long seq, ClaimsPrincipal user, MessageLifecycleStore store, CancellationToken cancellationToken)
        => await store.DeleteAsync(chatId, seq, user.GetUserId(), cancellationToken) switch
        {
            LifecycleOutcome.Done => TypedResults.NoContent(),
            var refused => Refused<NoContent>(refused, "Only members can delete this chat's messages."),
        };

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> AddReactionAsync(
        Guid chatId, long seq, string emoji, ClaimsPrincipal user, MessageLifecycleStore store, CancellationToken cancellationToken)
    {
        if (InvalidEmoji(emoji) is { } invalid)
        {
            return invalid;
        }

        return await store.AddReactionAsync(chatId, seq, user.GetUserId(), emoji, cancellationToken) switch
        {
            LifecycleOutcome.Done => TypedResults.NoContent(),
            var refused => Refused<NoContent>(refused, "Only members can react in this chat."),
        };
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RemoveReactionAsync(
        Guid chatId, long seq, string emoji, ClaimsPrincipal user, MessageLifecycleStore store, CancellationToken cancellationToken)
    {
        if (InvalidEmoji(emoji) is { } invalid)
        {
            return invalid;
        }

        return await store.RemoveReactionAsync(chatId, seq, user.GetUserId(), emoji, cancellationToken) switch
        {
            LifecycleOutcome.Done => TypedResults.NoContent(),
            var refused => Refused<NoContent>(refused, "Only members can react in this chat."),
        };
    }

    public static async Task<Results<Ok<MessageVersionsResponse>, ValidationProblem, ProblemHttpResult>> GetVersionsAsync(
        Guid chatId, long seq, ClaimsPrincipal user, MessageLifecycleStore store, CancellationToken cancellationToken)
    {
        var (refusal, versions) = await store.GetVersionsAsync(chatId, seq, user.GetUserId(), cancellationToken);
        return refusal is null
            ? TypedResults.Ok(new MessageVersionsResponse(versions))
            : Refused<Ok<MessageVersionsResponse>>(refusal, "Only members can read this chat's messages.");
    }

    private static ValidationProblem? InvalidEmoji(string emoji)
        => ReactionRules.Check(emoji) is { } reason
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["emoji"] = [reason] })
            : null;

    private static Results<TOk, ValidationProblem, ProblemHttpResult> Refused<TOk>(LifecycleOutcome outcome, string notMember)
        where TOk : IResult
        => outcome switch
        {
            LifecycleOutcome.ChatRefused(var access) => ChatAccess.Refused(access, notMember),
            LifecycleOutcome.MessageNotFound => TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: "This chat has no message with that seq."),
            LifecycleOutcome.Forbidden(var reason) => ChatAccess.Forbidden(reason),
            LifecycleOutcome.Deleted => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: "The message was deleted."),
            LifecycleOutcome.TooManyEmoji => TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["emoji"] = [$"A message carries at most {ReactionRules.MaxDistinctEmoji} distinct emoji."],
            }),
            _ => throw new UnreachableException(),
        };
}

/// <summary><c>GET .../messages/{seq}/versions</c>.</summary>
public sealed record MessageVersionsResponse(IReadOnlyList<MessageVersionResponse> Versions);
