using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Membership;

/// <summary>Adds and removes members, publishing member.joined / member.left after each commit.</summary>
public sealed class MembershipStore(ChatDbContext db, EventPublisher publisher)
{
    /// <summary>
    /// Adds a user as a plain member (nothing happens if they already are one). A new member's
    /// read position starts at the chat's current last seq: what was said before they joined is
    /// history, not unread.
    /// </summary>
    /// <returns>True when the user was not a member before.</returns>
    public async Task<bool> AddAsync(Guid chatId, Guid userId, CancellationToken cancellationToken)
    {
        var joinedAtSeq = await db.Database.SqlQuery<long>($"""
            INSERT INTO chat_members (chat_id, user_id, role, joined_at, last_read_seq)
            SELECT id, {userId}, 'member', clock_timestamp(), last_seq FROM chats WHERE id = {chatId}
            ON CONFLICT (chat_id, user_id) DO NOTHING
            RETURNING last_read_seq AS "Value"
            """).ToListAsync(cancellationToken);
        if (joinedAtSeq.Count == 0)
        {
            return false;
        }

        publisher.TryQueue(ChatEvents.MemberJoined(chatId, userId, joinedAtSeq[0]));
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
        var strategy = db.Database.CreateExecutionStrategy();
        var removed = await strategy.ExecuteAsync(
            (ChatId: chatId, UserId: userId),
            async (_, state, token) =>
            {
                await using var transaction = await db.Database.BeginTransactionAsync(token);
                await db.Database.ExecuteSqlAsync(
                    $"SELECT 1 FROM chats WHERE id = {state.ChatId} FOR NO KEY UPDATE", token);
                var roles = await db.Database.SqlQuery<string>($"""
                    DELETE FROM chat_members WHERE chat_id = {state.ChatId} AND user_id = {state.UserId}
                    RETURNING role AS "Value"
                    """).ToListAsync(token);
                if (roles is ["owner"])
                {
                    await db.Database.ExecuteSqlAsync($"""
                        UPDATE chat_members SET role = 'owner'
                        WHERE chat_id = {state.ChatId} AND user_id = (
                            SELECT user_id FROM chat_members WHERE chat_id = {state.ChatId}
                            ORDER BY role = 'admin' DESC, joined_at, user_id
                            LIMIT 1)
                        """, token);
                }

                await transaction.CommitAsync(token);
                return roles.Count > 0;
            },
            verifySucceeded: null,
            cancellationToken);

        if (removed)
        {
            publisher.TryQueue(ChatEvents.MemberLeft(chatId, userId));
        }

        return removed;
    }

    /// <summary>Makes a member an admin or a plain member again. Returns false when the user is not a member.</summary>
    public async Task<bool> SetRoleAsync(Guid chatId, Guid userId, ChatRole role, CancellationToken cancellationToken)
        => await db.ChatMembers
            .Where(member => member.ChatId == chatId && member.UserId == userId)
            .ExecuteUpdateAsync(member => member.SetProperty(m => m.Role, role), cancellationToken) > 0;
}
