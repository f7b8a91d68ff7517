using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using Yac.ChatService.Chats;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Messages;

/// <summary>The outcome of a send: stored now (201), stored before (200, idempotent retry), or refused.</summary>
public abstract record SendOutcome
{
    public sealed record Stored(Message Message) : SendOutcome;

    public sealed record AlreadyStored(Message Message) : SendOutcome;

    public sealed record Refused(ChatAccess? Access) : SendOutcome;
}

/// <summary>
/// Stores messages. The hot path is one SQL statement and a commit in one short transaction:
/// bump the chat's counter (the row lock serializes sends of that chat only, so seqs are gap-free
/// and unique in commit order), insert the message with that seq unless the same
/// (chat, sender, clientMsgId) exists, and move the sender's read position to it.
/// </summary>
public sealed class MessageStore(ChatDbContext db, MessageEventSequencer sequencer)
{
    // Every step depends on the previous one: no member -> no bump -> no insert -> no read update,
    // and the statement returns no row. A duplicate clientMsgId also returns no row: the
    // transaction is then rolled back, so the bumped counter is undone and no seq is lost.
    private const string SendSql = """
        WITH bump AS (
            UPDATE chats SET last_seq = last_seq + 1, last_activity_at = clock_timestamp()
            WHERE id = @chat_id
              AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = @chat_id AND user_id = @sender_id)
            RETURNING last_seq, last_activity_at
        ), stored AS (
            INSERT INTO messages (chat_id, seq, id, sender_id, text, sent_at, client_msg_id)
            SELECT @chat_id, bump.last_seq, @id, @sender_id, @text, bump.last_activity_at, @client_msg_id FROM bump
            ON CONFLICT (chat_id, sender_id, client_msg_id) DO NOTHING
            RETURNING seq, sent_at
        ), read AS (
            UPDATE chat_members SET last_read_seq = GREATEST(last_read_seq, stored.seq)
            FROM stored
            WHERE chat_id = @chat_id AND user_id = @sender_id
        )
        SELECT seq, sent_at FROM stored
        """;

    public async Task<SendOutcome> SendAsync(Guid chatId, Guid senderId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        var stored = await strategy.ExecuteAsync(
            (ChatId: chatId, SenderId: senderId, Request: request),
            (_, state, token) => TryStoreAsync(state.ChatId, state.SenderId, state.Request, token),
            verifySucceeded: null,
            cancellationToken);
        if (stored is not null)
        {
            return new SendOutcome.Stored(stored);
        }

        // Not stored: find out why (rare path: a retry, a non-member, or no such chat).
        var access = await ChatAccess.FindAsync(db, chatId, senderId, cancellationToken);
        if (access is not { IsMember: true })
        {
            return new SendOutcome.Refused(access);
        }

        var original = await db.Messages
            .AsNoTracking()
            .FirstOrDefaultAsync(
                message => message.ChatId == chatId && message.SenderId == senderId && message.ClientMsgId == request.ClientMsgId,
                cancellationToken);

        // A member whose insert hit nothing and found no original can only have lost a race with
        // leaving the chat; treat it like any refused send.
        return original is null ? new SendOutcome.Refused(access) : new SendOutcome.AlreadyStored(original);
    }

    private async Task<Message?> TryStoreAsync(Guid chatId, Guid senderId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        var messageId = Guid.CreateVersion7();
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var command = new NpgsqlCommand(SendSql, connection, (NpgsqlTransaction)transaction.GetDbTransaction());
        command.Parameters.Add(new NpgsqlParameter<Guid>("chat_id", NpgsqlDbType.Uuid) { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<Guid>("sender_id", NpgsqlDbType.Uuid) { TypedValue = senderId });
        command.Parameters.Add(new NpgsqlParameter<Guid>("id", NpgsqlDbType.Uuid) { TypedValue = messageId });
        command.Parameters.Add(new NpgsqlParameter<string>("text", NpgsqlDbType.Text) { TypedValue = request.Text });
        command.Parameters.Add(new NpgsqlParameter<string>("client_msg_id", NpgsqlDbType.Text) { TypedValue = request.ClientMsgId });

        (long Seq, DateTime SentAt)? row = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                row = (reader.GetInt64(0), reader.GetFieldValue<DateTime>(1));
            }
        }

        if (row is not { } assigned)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        var message = new Message
        {
            ChatId = chatId,
            Seq = assigned.Seq,
            Id = messageId,
            SenderId = senderId,
            Text = request.Text,
            SentAt = assigned.SentAt,
            ClientMsgId = request.ClientMsgId,
        };

        // Reserved while this transaction still holds the chat's row lock: see MessageEventSequencer.
        var reservation = sequencer.Reserve(chatId, assigned.Seq);
        try
        {
            // Not cancellable: once the seq is taken, the commit's outcome must be known.
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch
        {
            sequencer.Cancel(reservation);
            throw;
        }

        sequencer.Complete(reservation, ChatEvents.MessageCreated(message));
        ChatTelemetry.MessagesStored.Add(1);
        return message;
    }
}
