using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Limits;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ChatService.Messages;

/// <summary>Sending, history and read positions: <c>/api/chats/{chatId}/messages</c> and <c>/read</c>.</summary>
public static class MessagesApi
{
    public static IEndpointRouteBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var chat = app.MapGroup("/api/chats/{chatId}")
            .RequireAuthorization()
            .WithTags("Messages")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);

        chat.MapPost("/messages", SendAsync)
            .WithName("SendMessage")
            .WithSummary("Send a message (idempotent per clientMsgId)")
            .RequireRateLimiting(ChatRateLimits.Sends)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        chat.MapGet("/messages", GetHistoryAsync)
            .WithName("GetMessages")
            .WithSummary("A page of history, ascending by seq")
            .RequireRateLimiting(ChatRateLimits.Reads)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        chat.MapPost("/read", MarkReadAsync)
            .WithName("MarkRead")
            .WithSummary("Move your read position forward")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    /// <summary>201 with the stored message, or 200 with the original when this clientMsgId was already sent here.</summary>
    public static async Task<Results<Created<MessageResponse>, Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> SendAsync(
        Guid chatId, SendMessageRequest request, ClaimsPrincipal user, MessageStore store, ChatDbContext db, CancellationToken cancellationToken)
    {
        var senderId = user.GetUserId();
        using var activity = SendTelemetry.Start(chatId, senderId);
        var outcome = await store.SendAsync(chatId, senderId, request, cancellationToken);
        SendTelemetry.Record(activity, outcome);
        return outcome switch
        {
            SendOutcome.Stored(var message) => TypedResults.Created(
                $"/api/chats/{chatId:D}/messages?afterSeq={message.Seq - 1}&limit=1", MessageResponse.From(message)),
            // A retry answers with the original as it is now (edited, reacted to, or a tombstone).
            SendOutcome.AlreadyStored(var original) => TypedResults.Ok(await MessageReactions.ToResponseAsync(db, original, cancellationToken)),
            SendOutcome.Refused(var access) => ChatAccess.Refused(access, "Only members can post to this chat."),
            SendOutcome.InvalidReply => InvalidReply(),
            _ => throw new UnreachableException(),
        };
    }

    /// <summary>The 400 of a <c>replyToSeq</c> that names no message of the chat.</summary>
    public static ValidationProblem InvalidReply() => TypedResults.ValidationProblem(new Dictionary<string, string[]>
    {
        ["replyToSeq"] = ["replyToSeq must be the seq of a message of this chat."],
    });

    /// <summary>
    /// With neither cursor: the newest page. <c>afterSeq</c>: the oldest messages after it (walk
    /// forward). <c>beforeSeq</c>: the newest messages before it (walk backward). Both: the oldest
    /// messages strictly between them. <c>hasMore</c>: more messages exist beyond the page in the
    /// direction of the walk.
    /// </summary>
    public static async Task<Results<Ok<MessagePage>, ValidationProblem, ProblemHttpResult>> GetHistoryAsync(
        Guid chatId, long? afterSeq, long? beforeSeq, int? limit, ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (afterSeq < 0)
        {
            errors["afterSeq"] = ["afterSeq must be 0 or more."];
        }

        if (beforeSeq < 1)
        {
            errors["beforeSeq"] = ["beforeSeq must be 1 or more."];
        }

        if (afterSeq is not null && beforeSeq is not null && afterSeq >= beforeSeq)
        {
            errors["beforeSeq"] = ["beforeSeq must be greater than afterSeq."];
        }

        if (limit is < 1 or > MessageLimits.MaxPageSize)
        {
            errors["limit"] = [$"limit must be between 1 and {MessageLimits.MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var access = await ChatAccess.FindAsync(db, chatId, user.GetUserId(), cancellationToken);
        if (access is not { IsMember: true })
        {
            return ChatAccess.Refused(access, "Only members can read this chat's messages.");
        }

        var pageSize = limit ?? MessageLimits.DefaultPageSize;
        var messages = db.Messages.AsNoTracking().Where(message => message.ChatId == chatId);
        List<Message> page;
        if (afterSeq is { } after)
        {
            messages = messages.Where(message => message.Seq > after);
            if (beforeSeq is { } upper)
            {
                messages = messages.Where(message => message.Seq < upper);
            }

            page = await messages.OrderBy(message => message.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
        }
        else
        {
            if (beforeSeq is { } before)
            {
                messages = messages.Where(message => message.Seq < before);
            }

            page = await messages.OrderByDescending(message => message.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
            page.Reverse();
            if (page.Count > pageSize)
            {
                // Walking backward: the extra row is the oldest one, just beyond the page.
                page.RemoveAt(0);
                return TypedResults.Ok(new MessagePage(await MessageReactions.ToResponsesAsync(db, page, cancellationToken), HasMore: true));
            }
        }

        var hasMore = page.Count > pageSize;
        if (hasMore)
        {
            page.RemoveAt(page.Count - 1);
        }

        return TypedResults.Ok(new MessagePage(await MessageReactions.ToResponsesAsync(db, page, cancellationToken), hasMore));
    }

    /// <summary>Moves the caller's read position forward (up to the chat's last seq); never backward.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> MarkReadAsync(
        Guid chatId, MarkReadRequest request, ClaimsPrincipal user, ChatDbContext db, EventPublisher publisher, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var access = await ChatAccess.FindAsync(db, chatId, userId, cancellationToken);
        if (access is not { IsMember: true })
        {
            return ChatAccess.Refused(access, "Only members have a read position in this chat.");
        }

        var readSeq = Math.Min(request.Seq!.Value, access.LastSeq);
        var moved = await db.ChatMembers
            .Where(member => member.ChatId == chatId && member.UserId == userId && member.LastReadSeq < readSeq)
            .ExecuteUpdateAsync(member => member.SetProperty(m => m.LastReadSeq, readSeq), cancellationToken);
        if (moved > 0)
        {
            publisher.TryQueue(ChatEvents.ReadUpdated(chatId, userId, readSeq));
        }

        return TypedResults.NoContent();
    }
}
