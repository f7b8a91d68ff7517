using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Changes;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Membership;

namespace Yac.ChatService.Messages;

/// <summary>What an edit, a delete or a reaction change came to.</summary>
public abstract record LifecycleOutcome
{
    /// <summary>Done (or nothing to do: already so); <paramref name="Message"/> as it is now.</summary>
    public sealed record Done(MessageResponse Message) : LifecycleOutcome;

    /// <summary>No such chat, or the caller is not a member: 404, or 403 for a public chat.</summary>
    public sealed record ChatRefused(ChatAccess? Access) : LifecycleOutcome;

    /// <summary>The chat has no message with that seq (404).</summary>
    public sealed record MessageNotFound : LifecycleOutcome;

    /// <summary>A member who may not do this (403).</summary>
    public sealed record Forbidden(string Reason) : LifecycleOutcome;

    /// <summary>The message was deleted (409).</summary>
    public sealed record Deleted : LifecycleOutcome;

    /// <summary>The message carries the most distinct emoji it may (400).</summary>
    public sealed record TooManyEmoji : LifecycleOutcome;
}

/// <summary>
/// Edits, deletes and reactions. Each runs in one transaction that locks the chat's row (as every
/// writer of the chat's log does), checks the caller's membership and the message under that lock,
/// changes the message and appends a <c>messageUpdated</c> change at the chat's next rev; the frame is
/// rendered from the state inside the transaction, so it shows the message exactly as of its rev, and
/// goes to the <see cref="ChangePublisher"/> right after the commit. Nothing changes (and no change is
/// logged) when the message is already as asked: a repeated PUT, DELETE or edit to the same text.
/// </summary>
public sealed class MessageLifecycleStore(ChatDbContext db, ChangePublisher publisher, TimeProvider time)
{
    /// <summary>What a change answers when the message is already as asked.</summary>
    private static readonly LifecycleOutcome s_unchanged = new Unchanged();

    /// <summary>Sets the text of the caller's own message (the previous text kept as a version).</summary>
    public Task<LifecycleOutcome> EditAsync(Guid chatId, long seq, Guid userId, string text, CancellationToken cancellationToken)
        => ChangeAsync(chatId, seq, userId, async (target, now, token) =>
        {
            var message = target.Message;
            if (message.SenderId != userId)
            {
                return new LifecycleOutcome.Forbidden("Only its sender can edit a message.");
            }

            if (message.DeletedAt is not null)
            {
                return new LifecycleOutcome.Deleted();
            }

            if (message.Text == text)
            {
                return s_unchanged;
            }

            var version = await db.MessageVersions
                .Where(v => v.ChatId == chatId && v.Seq == seq)
                .Select(v => (int?)v.Version)
                .MaxAsync(token) ?? 0;
            db.MessageVersions.Add(new MessageVersion
            {
                ChatId = chatId,
                Seq = seq,
                Version = version + 1,
                Text = message.Text,
                WrittenAt = message.EditedAt ?? message.SentAt,
            });
            await db.SaveChangesAsync(token);
            await db.Messages
                .Where(m => m.ChatId == chatId && m.Seq == seq)
                .ExecuteUpdateAsync(m => m.SetProperty(x => x.Text, text).SetProperty(x => x.EditedAt, now), token);
            message.Text = text;
            message.EditedAt = now;
            return null;
        }, cancellationToken);

    /// <summary>
    /// Leaves a tombstone: the text emptied in the row, its earlier versions and its reactions removed.
    /// The sender may, and an owner or admin of a group.
    /// </summary>
    public Task<LifecycleOutcome> DeleteAsync(Guid chatId, long seq, Guid userId, CancellationToken cancellationToken)
        => ChangeAsync(chatId, seq, userId, async (target, now, token) =>
        {
            var message = target.Message;
            var moderates = target.Access.Kind == ChatKind.Group && target.Access.Role is ChatRole.Owner or ChatRole.Admin;
            if (message.SenderId != userId && !moderates)
            {
                return new LifecycleOutcome.Forbidden("Only its sender, or an owner or admin of the group, can delete a message.");
            }

            if (message.DeletedAt is not null)
            {
                return s_unchanged;
            }

            await db.MessageReactions.Where(r => r.ChatId == chatId && r.Seq == seq).ExecuteDeleteAsync(token);
            await db.MessageVersions.Where(v => v.ChatId == chatId && v.Seq == seq).ExecuteDeleteAsync(token);
            await db.Messages
                .Where(m => m.ChatId == chatId && m.Seq == seq)
                .ExecuteUpdateAsync(m => m
                    .SetProperty(x => x.Text, string.Empty)
                    .SetProperty(x => x.DeletedAt, now)
                    .SetProperty(x => x.EditedAt, (DateTime?)null), token);
            message.Text = string.Empty;
            message.DeletedAt = now;
            message.EditedAt = null;
            return null;
        }, cancellationToken);

    /// <summary>Adds the caller's reaction with <paramref name="emoji"/> (a member; not on a deleted message).</summary>
    public Task<LifecycleOutcome> AddReactionAsync(Guid chatId, long seq, Guid userId, string emoji, CancellationToken cancellationToken)
        => ChangeAsync(chatId, seq, userId, async (target, now, token) =>
        {
            if (target.Message.DeletedAt is not null)
            {
                return new LifecycleOutcome.Deleted();
            }

            var emojis = await db.MessageReactions
                .Where(r => r.ChatId == chatId && r.Seq == seq)
                .Select(r => new { r.Emoji, r.UserId })
                .ToListAsync(token);
            if (emojis.Any(r => r.Emoji == emoji && r.UserId == userId))
            {
                return s_unchanged;
            }

            if (emojis.All(r => r.Emoji != emoji) && emojis.Select(r => r.Emoji).Distinct().Count() >= ReactionRules.MaxDistinctEmoji)
            {
                return new LifecycleOutcome.TooManyEmoji();
            }

            db.MessageReactions.Add(new MessageReaction { ChatId = chatId, Seq = seq, Emoji = emoji, UserId = userId, ReactedAt = now });
            await db.SaveChangesAsync(token);
            return null;
        }, cancellationToken);

    /// <summary>Removes the caller's reaction with <paramref name="emoji"/>, if there is one.</summary>
    public Task<LifecycleOutcome> RemoveReactionAsync(Guid chatId, long seq, Guid userId, string emoji, CancellationToken cancellationToken)
        => ChangeAsync(chatId, seq, userId, async (_, _, token) =>
        {
            var removed = await db.MessageReactions
                .Where(r => r.ChatId == chatId && r.Seq == seq && r.Emoji == emoji && r.UserId == userId)
                .ExecuteDeleteAsync(token);
            return removed == 0 ? s_unchanged : null;
        }, cancellationToken);

    /// <summary>A message's earlier texts, oldest first (members; none once it is deleted).</summary>
    public async Task<(LifecycleOutcome? Refusal, List<MessageVersionResponse> Versions)> GetVersionsAsync(
        Guid chatId, long seq, Guid userId, CancellationToken cancellationToken)
    {
        var access = await ChatAccess.FindAsync(db, chatId, userId, cancellationToken);
        if (access is not { IsMember: true })
        {
            return (new LifecycleOutcome.ChatRefused(access), []);
        }

        if (!await db.Messages.AnyAsync(m => m.ChatId == chatId && m.Seq == seq, cancellationToken))
        {
            return (new LifecycleOutcome.MessageNotFound(), []);
        }

        var versions = await db.MessageVersions.AsNoTracking()
            .Where(v => v.ChatId == chatId && v.Seq == seq)
            .OrderBy(v => v.Version)
            .Select(v => new MessageVersionResponse(v.Version, v.Text, v.WrittenAt))
            .ToListAsync(cancellationToken);
        return (null, versions);
    }

    private sealed record Unchanged : LifecycleOutcome;

    /// <summary>The message a change is about, and the caller's access to its chat, read under the chat's lock.</summary>
    private sealed record Target(ChatAccess Access, Message Message);

    /// <summary>
    /// The shared frame of every change: <paramref name="change"/> gets the locked target and the time,
    /// and answers null when it changed the message (then logged and published here),
    /// <see cref="s_unchanged"/> when there was nothing to change, or a refusal.
    /// </summary>
    private async Task<LifecycleOutcome> ChangeAsync(
        Guid chatId, long seq, Guid userId, Func<Target, DateTime, CancellationToken, Task<LifecycleOutcome?>> change, CancellationToken cancellationToken)
    {
        var cause = ChangeLog.Cause;
        var (outcome, committed) = await ChangeLog.InTransactionAsync(db, async token =>
        {
            db.ChangeTracker.Clear();
            if (await ChangeLog.LockAsync(db, chatId, token) is not { } current)
            {
                return ((LifecycleOutcome)new LifecycleOutcome.ChatRefused(null), (CommittedChange?)null);
            }

            var access = await ChatAccess.FindAsync(db, chatId, userId, token);
            if (access is not { IsMember: true })
            {
                return (new LifecycleOutcome.ChatRefused(access), null);
            }

            var message = await db.Messages.AsNoTracking().SingleOrDefaultAsync(m => m.ChatId == chatId && m.Seq == seq, token);
            if (message is null)
            {
                return (new LifecycleOutcome.MessageNotFound(), null);
            }

            var now = time.GetUtcNow().UtcDateTime;
            now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
            switch (await change(new Target(access, message), now, token))
            {
                case Unchanged:
                    // Already as asked: nothing written, nothing logged.
                    return (new LifecycleOutcome.Done(await MessageReactions.ToResponseAsync(db, message, token)), null);
                case { } refused:
                    return (refused, null);
            }

            var rev = current + 1;
            await ChangeLog.AppendAsync(db, chatId, rev, ChangeTypes.MessageUpdated, seq, userId: null, cause, token);
            var response = await MessageReactions.ToResponseAsync(db, message, token);
            return (new LifecycleOutcome.Done(response),
                new CommittedChange(chatId, rev, ChangeTypes.MessageUpdated, null, seq, ChangeFrames.MessageUpdated(response, rev), cause));
        }, cancellationToken);

        if (committed is not null)
        {
            publisher.Committed([committed]);
        }

        return outcome;
    }
}
