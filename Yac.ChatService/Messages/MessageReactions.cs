using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Messages;

/// <summary>
/// Reads the reactions of many messages in one query (a history page, a change page, search results,
/// the chat list): never one query per message.
/// </summary>
public static class MessageReactions
{
    private static readonly IReadOnlyDictionary<(Guid ChatId, long Seq), IReadOnlyList<ReactionResponse>> s_none =
        new Dictionary<(Guid ChatId, long Seq), IReadOnlyList<ReactionResponse>>();

    /// <summary>
    /// Each message's reactions, by (chat, seq); messages without any are absent. Runs in the context's
    /// current transaction, if any, so a change sees its own writes.
    /// </summary>
    public static async Task<IReadOnlyDictionary<(Guid ChatId, long Seq), IReadOnlyList<ReactionResponse>>> LoadAsync(
        ChatDbContext db, IEnumerable<(Guid ChatId, long Seq)> messages, CancellationToken cancellationToken)
    {
        var keys = messages.Distinct().ToArray();
        if (keys.Length == 0)
        {
            return s_none;
        }

        var result = new Dictionary<(Guid ChatId, long Seq), IReadOnlyList<ReactionResponse>>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand(
                $"""
                SELECT r.chat_id, r.seq, r.emoji, count(*)::int,
                       (array_agg(r.user_id ORDER BY r.reacted_at, r.user_id))[1:{ReactionRules.ListedUsers}]
                FROM message_reactions r
                JOIN unnest(@chat_ids, @seqs) AS k(chat_id, seq) ON r.chat_id = k.chat_id AND r.seq = k.seq
                GROUP BY r.chat_id, r.seq, r.emoji
                ORDER BY r.chat_id, r.seq, min(r.reacted_at), r.emoji
                """,
                (NpgsqlConnection)db.Database.GetDbConnection(),
                (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("chat_ids", [.. keys.Select(key => key.ChatId)]));
            command.Parameters.Add(new NpgsqlParameter<long[]>("seqs", [.. keys.Select(key => key.Seq)]));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = (reader.GetGuid(0), reader.GetInt64(1));
                if (!result.TryGetValue(key, out var list))
                {
                    result[key] = list = new List<ReactionResponse>();
                }

                ((List<ReactionResponse>)list).Add(new ReactionResponse(reader.GetString(2), reader.GetInt32(3), reader.GetFieldValue<Guid[]>(4)));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return result;
    }

    /// <summary>The messages as the contract shows them, their reactions read in one query.</summary>
    public static async Task<List<MessageResponse>> ToResponsesAsync(ChatDbContext db, IReadOnlyCollection<Message> messages, CancellationToken cancellationToken)
    {
        var reactions = await LoadAsync(db, messages.Select(message => (message.ChatId, message.Seq)), cancellationToken);
        return [.. messages.Select(message => MessageResponse.From(message, reactions.GetValueOrDefault((message.ChatId, message.Seq))))];
    }

    /// <summary>One message as the contract shows it.</summary>
    public static async Task<MessageResponse> ToResponseAsync(ChatDbContext db, Message message, CancellationToken cancellationToken)
        => (await ToResponsesAsync(db, [message], cancellationToken))[0];
}
