using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Limits;
using Yac.ChatService.Messages;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Search;

/// <summary><c>GET /api/search</c>: the caller's messages that match a query, newest first.</summary>
public static class SearchApi
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>A query longer than this is refused (it would only be slower, never more precise).</summary>
    public const int MaxQueryLength = 256;

    public static IEndpointRouteBuilder MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/search", SearchAsync)
            .RequireAuthorization()
            .WithTags("Search")
            .WithName("SearchMessages")
            .WithSummary("Full-text search over the messages of your chats (or of one of them), newest first")
            .RequireRateLimiting(ChatRateLimits.Reads)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    /// <summary>
    /// <c>q</c>: words, <c>"a phrase"</c>, <c>or</c>, <c>-word</c> (PostgreSQL's web search syntax), any
    /// language (matched by word, without stemming). <c>chatId</c>: only that chat (none of the caller's: no results).
    /// </summary>
    public static async Task<Results<Ok<SearchResponse>, ValidationProblem>> SearchAsync(
        string? q, Guid? chatId, int? limit, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(q))
        {
            errors["q"] = ["q is required and must not be empty."];
        }
        else if (q.Length > MaxQueryLength)
        {
            errors["q"] = [$"q is at most {MaxQueryLength} characters."];
        }

        if (limit is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"limit must be between 1 and {MaxLimit}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var found = await SearchQuery.For(db, user.GetUserId(), q!, chatId, limit ?? DefaultLimit).ToListAsync(cancellationToken);
        return TypedResults.Ok(new SearchResponse(await MessageReactions.ToResponsesAsync(db, found, cancellationToken)));
    }
}

/// <summary>The contract's search answer: matching messages, newest first.</summary>
public sealed record SearchResponse(IReadOnlyList<MessageResponse> Results);
