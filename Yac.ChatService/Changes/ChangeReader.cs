using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Changes;

/// <summary>A change read back from the log, rendered as its frame, with the trace of what made it.</summary>
public sealed record LoggedChange(Guid ChatId, long Rev, string Type, Guid? UserId, long? Seq, byte[] Frame, ActivityContext Cause);

/// <summary>
/// Reads a chat's log back as frames, showing what each change concerns as it is now (a message
/// deleted since shows as its tombstone): for <c>GET .../changes</c>, and for the publisher when it
/// recovers what the fast path did not bring.
/// </summary>
public static class ChangeReader
{
    /// <summary>
    /// Up to <paramref name="limit"/> changes of <paramref name="chatId"/> with rev greater than
    /// <paramref name="afterRev"/>, ascending, and whether more follow.
    /// </summary>
    public static async Task<(List<LoggedChange> Changes, bool HasMore)> ReadAsync(
        ChatDbContext db, Guid chatId, long afterRev, int limit, CancellationToken cancellationToken)
    {
        var rows = await (
            from change in db.ChatChanges.AsNoTracking()
            where change.ChatId == chatId && change.Rev > afterRev
            join message in db.Messages.AsNoTracking()
                on new { change.ChatId, change.Seq } equals new { message.ChatId, Seq = (long?)message.Seq } into messages
            from message in messages.DefaultIfEmpty()
            orderby change.Rev
            select new { change, message })
            .Take(limit + 1)
            .ToListAsync(cancellationToken);

        var hasMore = rows.Count > limit;
        // The reactions of every message the page names, in one query.
        var reactions = await MessageReactions.LoadAsync(
            db, rows.Take(limit).Where(row => row.message is not null).Select(row => (chatId, row.message!.Seq)), cancellationToken);
        ChatResponse? chat = null;
        var changes = new List<LoggedChange>(Math.Min(rows.Count, limit));
        MessageResponse Render(Message message) => MessageResponse.From(message, reactions.GetValueOrDefault((chatId, message.Seq)));
        foreach (var row in rows.Take(limit))
        {
            var change = row.change;
            byte[]? frame = change.Type switch
            {
                ChangeTypes.Message when row.message is not null => ChangeFrames.Message(Render(row.message), change.Rev),
                ChangeTypes.MessageUpdated when row.message is not null => ChangeFrames.MessageUpdated(Render(row.message), change.Rev),
                ChangeTypes.MemberJoined or ChangeTypes.MemberLeft when change.UserId is { } userId =>
                    ChangeFrames.Member(change.Type, chatId, userId, change.Rev),
                ChangeTypes.ChatUpdated => ChangeFrames.ChatUpdated(chat ??= await ReadChatAsync(db, chatId, cancellationToken), change.Rev),
                _ => null,
            };

            // Every entry is written with what its frame needs; one that is not would leave a gap that
            // no fill can close, so it fails the read instead of silently going missing.
            changes.Add(new LoggedChange(chatId, change.Rev, change.Type, change.UserId, change.Seq,
                frame ?? throw new InvalidOperationException($"Change {change.Rev} of chat {chatId} ({change.Type}) cannot be rendered."),
                ChangeTrace.Parse(change.TraceParent)));
        }

        return (changes, hasMore);
    }

    /// <summary>
    /// The rev just before the change that created the first message with seq greater than
    /// <paramref name="afterSeq"/>: where a v1 <c>resume</c> by seq starts in the log. Null when there
    /// is no such message (nothing to replay).
    /// </summary>
    public static async Task<long?> RevBeforeSeqAsync(ChatDbContext db, Guid chatId, long afterSeq, CancellationToken cancellationToken)
    {
        var revs = await db.Messages.AsNoTracking()
            .Where(message => message.ChatId == chatId && message.Seq > afterSeq)
            .OrderBy(message => message.Seq)
            .Select(message => message.Rev)
            .Take(1)
            .ToListAsync(cancellationToken);
        return revs.Count == 0 ? null : revs[0] - 1;
    }

    private static async Task<ChatResponse> ReadChatAsync(ChatDbContext db, Guid chatId, CancellationToken cancellationToken)
        => ChatResponse.From(await db.Chats.AsNoTracking().Include(chat => chat.Members).SingleAsync(chat => chat.Id == chatId, cancellationToken));
}
