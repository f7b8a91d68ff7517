using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Changes;

/// <summary>
/// Appends single changes (membership, chat updates) to a chat's log inside the caller's
/// transaction: locks the chat's row, takes the next rev and writes the entry, so the change and its
/// rev commit together or not at all. The committer writes message changes the same way, in bulk.
/// </summary>
public static class ChangeLog
{
    /// <summary>
    /// Locks the chat's row for the rest of the transaction and returns its current rev, or null when
    /// the chat does not exist. Every writer of a chat's log takes this lock first (in chat-id order
    /// when several), so revs are assigned in commit order.
    /// </summary>
    public static async Task<long?> LockAsync(ChatDbContext db, Guid chatId, CancellationToken cancellationToken)
    {
        var revs = await db.Database.SqlQuery<long>(
            $"""SELECT rev AS "Value" FROM chats WHERE id = {chatId} FOR NO KEY UPDATE""").ToListAsync(cancellationToken);
        return revs.Count == 0 ? null : revs[0];
    }

    /// <summary>
    /// Writes the change at <paramref name="rev"/> (the locked rev + 1), with the trace of
    /// <paramref name="cause"/>, and moves the chat's rev to it.
    /// </summary>
    public static async Task AppendAsync(
        ChatDbContext db, Guid chatId, long rev, string type, long? seq, Guid? userId, ActivityContext cause, CancellationToken cancellationToken)
    {
        var traceParent = ChangeTrace.Format(cause);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO chat_changes (chat_id, rev, type, seq, user_id, changed_at, trace_parent)
            VALUES ({chatId}, {rev}, {type}, {seq}, {userId}, clock_timestamp(), {traceParent});
            UPDATE chats SET rev = {rev} WHERE id = {chatId};
            """, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction, retried as a whole on transient failures.</summary>
    public static Task<T> InTransactionAsync<T>(ChatDbContext db, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return strategy.ExecuteAsync(work, async (_, run, token) =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(token);
            var result = await run(token);
            await transaction.CommitAsync(token);
            return result;
        }, verifySucceeded: null, cancellationToken);
    }

    /// <summary>The activity that makes the change, whose trace its publication continues.</summary>
    public static ActivityContext Cause => Activity.Current?.Context ?? default;
}
