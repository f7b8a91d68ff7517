using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Changes;
using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Membership;

/// <summary>
/// Adds and removes members and changes roles. Each change takes the chat's next rev in the same
/// transaction (<c>memberJoined</c>, <c>memberLeft</c>, <c>chatUpdated</c>), so gateways apply it in
/// order with the chat's messages: a member receives every change from their join on and none after
/// they left.
/// </summary>
public sealed class MembershipStore(ChatDbContext db, ChangePublisher publisher)
{
    /// <summary>
    /// Adds a user as a plain member (nothing happens if they already are one). A new member's
    /// read position starts at the chat's current last seq: what was said before they joined is
    /// history, not unread.
    /// </summary>
    /// <returns>True when the user was not a member before.</returns>
    public async Task<bool> AddAsync(Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        var cause = ChangeLog.Cause;
        var rev = await ChangeLog.InTransactionAsync(db, async token =>
        {
            if (await ChangeLog.LockAsync(db, chatId, token) is not { } current)
            {
                return (long?)null;
            }

            var added = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO chat_members (chat_id, user_id, role, joined_at, last_read_seq, joined_rev)
                SELECT id, {userId}, 'member', clock_timestamp(), last_seq, {current + 1} FROM chats WHERE id = {chatId}
                ON CONFLICT (chat_id, user_id) DO NOTHING
                """, token);
            if (added == 0)
            {
                return null;
            }

            await ChangeLog.AppendAsync(db, chatId, current + 1, ChangeTypes.MemberJoined, seq: null, userId, cause, token);
            return current + 1;
        }, cancellationToken);

        if (rev is not { } joinedRev)
        {
            return false;
        }

        publisher.Committed([Member(ChangeTypes.MemberJoined, chatId, userId, joinedRev, cause)]);
        return true;
    }

    /// <summary>
    /// Removes a member. When the owner leaves, ownership passes to the longest-standing admin, or
    /// else the longest-standing member; the chat's row is locked meanwhile so two concurrent
    /// departures cannot hand the chat to someone who is leaving too.
    /// </summary>
    /// <returns>True when the user was a member.</returns>
    public async Task<bool> RemoveAsync(Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        var cause = ChangeLog.Cause;
        var rev = await ChangeLog.InTransactionAsync(db, async token =>
        {
            if (await ChangeLog.LockAsync(db, chatId, token) is not { } current)
            {
                return (long?)null;
            }

            var roles = await db.Database.SqlQuery<string>($"""
                DELETE FROM chat_members WHERE chat_id = {chatId} AND user_id = {userId}
                RETURNING role AS "Value"
                """).ToListAsync(token);
            if (roles.Count == 0)
            {
                return null;
            }

            if (roles is ["owner"])
            {
                await db.Database.ExecuteSqlAsync($"""
                    UPDATE chat_members SET role = 'owner'
                    WHERE chat_id = {chatId} AND user_id = (
                        SELECT user_id FROM chat_members WHERE chat_id = {chatId}
                        ORDER BY role = 'admin' DESC, joined_at, user_id
                        LIMIT 1)
                    """, token);
            }

            await ChangeLog.AppendAsync(db, chatId, current + 1, ChangeTypes.MemberLeft, seq: null, userId, cause, token);
            return current + 1;
        }, cancellationToken);

        if (rev is not { } leftRev)
        {
            return false;
        }

        publisher.Committed([Member(ChangeTypes.MemberLeft, chatId, userId, leftRev, cause)]);
        return true;
    }

    /// <summary>
    /// Makes a member an admin or a plain member again (a <c>chatUpdated</c> change when it changed).
    /// Returns false when the user is not a member.
    /// </summary>
    public async Task<bool> SetRoleAsync(Guid chatId, Guid userId, ChatRole role, CancellationToken cancellationToken)
    {
        var cause = ChangeLog.Cause;
        var (isMember, rev) = await ChangeLog.InTransactionAsync(db, async token =>
        {
            if (await ChangeLog.LockAsync(db, chatId, token) is not { } current)
            {
                return (false, (long?)null);
            }

            var member = await db.ChatMembers.SingleOrDefaultAsync(m => m.ChatId == chatId && m.UserId == userId, token);
            if (member is null)
            {
                return (false, null);
            }

            if (member.Role == role)
            {
                return (true, null);
            }

            await db.ChatMembers
                .Where(m => m.ChatId == chatId && m.UserId == userId)
                .ExecuteUpdateAsync(m => m.SetProperty(x => x.Role, role), token);
            await ChangeLog.AppendAsync(db, chatId, current + 1, ChangeTypes.ChatUpdated, seq: null, userId: null, cause, token);
            return (true, current + 1);
        }, cancellationToken);

        if (rev is { } updatedRev)
        {
            var chat = await db.Chats.AsNoTracking().Include(chat => chat.Members).SingleAsync(chat => chat.Id == chatId, cancellationToken);
            // Rendered after the commit: if the chat changed again meanwhile, both frames show it as it is now.
            publisher.Committed([new CommittedChange(chatId, updatedRev, ChangeTypes.ChatUpdated, null, null,
                ChangeFrames.ChatUpdated(ChatResponse.From(chat), updatedRev), cause)]);
        }

        return isMember;
    }

    private static CommittedChange Member(string type, Guid chatId, Guid userId, long rev, System.Diagnostics.ActivityContext cause)
        => new(chatId, rev, type, userId, null, ChangeFrames.Member(type, chatId, userId, rev), cause);
}
