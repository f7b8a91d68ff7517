using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Yac.ChatService.Events;
using Yac.ChatService.Limits;
using Yac.Contracts;
using Yac.ServiceDefaults.Authentication;
using Yac.ServiceDefaults.RateLimiting;

namespace Yac.ChatService.Messages;

/// <summary>
/// <c>POST /internal/messages/batch</c>: a gateway's sends, many sockets' at once, in one request. One
/// HTTP exchange per batch instead of per message was the largest cost of a send after the commit itself
/// (the gateway's client pipeline, Kestrel, routing and middleware in ChatService). Each send is handled
/// exactly as <c>POST /api/chats/{chatId}/messages</c> handles it: its own access token, the same
/// validation, the same per-user send budget, the same committer, so they share the group commit;
/// only the transport is shared.
/// </summary>
public static partial class SendBatchApi
{
    /// <summary>More than a gateway sends at once under any load measured (it sends while earlier batches commit).</summary>
    public const int MaxSends = 512;

    /// <summary>512 sends of 4000 characters, each escaped as <c>\uXXXX</c>, with their tokens: about 13 MiB.</summary>
    public const long MaxBodyBytes = 32L * 1024 * 1024;

    public static IEndpointRouteBuilder MapSendBatchApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/messages/batch", SendBatchAsync)
            // Not one caller: every send in the body carries (and is checked with) its user's token.
            .AllowAnonymous()
            .WithRequestBodyLimit(MaxBodyBytes)
            .WithTags("Internal")
            .WithName("SendMessageBatch")
            .WithSummary("Many users' sends in one request (gateway to ChatService); one result per send, in order")
            .ProducesValidationProblem();
        return app;
    }

    public static async Task<Results<Ok<SendBatchResponse>, ValidationProblem>> SendBatchAsync(
        SendBatchRequest request, IAccessTokenValidator tokens, MessageStore store, RedisRateLimits limits,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (request.Sends is not { Count: > 0 and <= MaxSends } sends || sends.Any(send => send is null))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["sends"] = [$"Between 1 and {MaxSends} sends, none of them null."],
            });
        }

        var logger = loggers.CreateLogger(typeof(SendBatchApi));
        var callers = await Task.WhenAll(sends.Select(send => tokens.ValidateAsync(send.AccessToken ?? string.Empty, cancellationToken)));
        var overBudget = await FindOverBudgetAsync(callers, limits, cancellationToken);
        var results = await Task.WhenAll(sends.Select((send, index) => overBudget[index]
            ? Task.FromResult(new BatchedSendResult(StatusCodes.Status429TooManyRequests, null))
            : SendOneAsync(send, callers[index], store, logger, cancellationToken)));
        return TypedResults.Ok(new SendBatchResponse(results));
    }

    /// <summary>
    /// The sends beyond their user's <see cref="ChatRateLimits.Sends"/> budget, the same budget as
    /// REST sends: one Redis round trip per user of the batch; a user's earlier sends in the batch go
    /// first, so a socket's order is kept (its refused sends are the last ones).
    /// </summary>
    private static async Task<bool[]> FindOverBudgetAsync(
        AccessTokenValidationResult[] callers, RedisRateLimits limits, CancellationToken cancellationToken)
    {
        var overBudget = new bool[callers.Length];
        var byUser = callers
            .Select((caller, index) => (caller, index))
            .Where(send => send.caller.IsValid)
            .GroupBy(send => send.caller.UserId, send => send.index)
            .Select(group => group.ToList())
            .ToList();
        var granted = await Task.WhenAll(byUser.Select(indices => limits.TakeAsync(
            ChatRateLimits.Sends, RedisRateLimits.UserPartition(callers[indices[0]].UserId), indices.Count, cancellationToken)));
        for (var user = 0; user < byUser.Count; user++)
        {
            foreach (var index in byUser[user].Skip(granted[user].Granted))
            {
                overBudget[index] = true;
            }
        }

        return overBudget;
    }

    private static async Task<BatchedSendResult> SendOneAsync(
        BatchedSend send, AccessTokenValidationResult token, MessageStore store, ILogger logger, CancellationToken cancellationToken)
    {
        if (!token.IsValid)
        {
            return new BatchedSendResult(StatusCodes.Status401Unauthorized, null);
        }

        var request = new SendMessageRequest(send.ClientMsgId!, send.Text!, send.ReplyToSeq);
        if (!Validator.TryValidateObject(request, new ValidationContext(request), validationResults: null, validateAllProperties: true))
        {
            return new BatchedSendResult(StatusCodes.Status400BadRequest, null);
        }

        // The send's trace goes on from the gateway's span of it, not from this shared request.
        ActivityContext.TryParse(send.TraceParent, traceState: null, out var sender);
        using var activity = SendTelemetry.Start(send.ChatId, token.UserId, sender);
        SendOutcome outcome;
        try
        {
            outcome = await store.SendAsync(send.ChatId, token.UserId, request, cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // This send's commit failed (its batch was retried alone): it alone is unavailable, not the request.
            LogSendFailed(logger, send.ChatId, exception);
            activity?.SetStatus(ActivityStatusCode.Error, "failed");
            return new BatchedSendResult(StatusCodes.Status503ServiceUnavailable, null);
        }

        SendTelemetry.Record(activity, outcome);
        return outcome switch
        {
            SendOutcome.Stored(var message) => new BatchedSendResult(StatusCodes.Status201Created, ChatEvents.ToContract(message)),
            SendOutcome.AlreadyStored(var original) => new BatchedSendResult(StatusCodes.Status200OK, ChatEvents.ToContract(original)),
            SendOutcome.InvalidReply => new BatchedSendResult(StatusCodes.Status400BadRequest, null),
            SendOutcome.Refused(var access) => new BatchedSendResult(access is { IsVisible: true } ? StatusCodes.Status403Forbidden : StatusCodes.Status404NotFound, null),
            _ => throw new UnreachableException(),
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A batched send to chat {ChatId} failed")]
    private static partial void LogSendFailed(ILogger logger, Guid chatId, Exception exception);
}
