using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Yac.ChatService.Changes;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Messages;

/// <summary>
/// Group commit: stores messages in batches, one short transaction (and one WAL flush) for every
/// send that arrived while the previous batch was committing, across all chats.
/// <para>
/// One loop commits one batch at a time. Inside the transaction it locks the batch's chats in id
/// order (so two ChatService instances never deadlock), reads which senders are members and which
/// (chat, sender, clientMsgId) exist already, gives every new message the next seq of its chat, and
/// writes the messages, their entries in the chats' change logs (each message takes its chat's next
/// rev), the chats' counters and the senders' read positions with array parameters. Seqs and revs
/// stay gap-free and unique in commit order; a message is acknowledged only after its batch
/// committed. Right after the commit the changes go to the <see cref="ChangePublisher"/> already
/// rendered (its fast path); the log in the database is what guarantees their publication. Under
/// light load a batch holds one message and costs what a single send would.
/// </para>
/// </summary>
public sealed partial class MessageCommitter(IServiceScopeFactory scopes, ChangePublisher publisher, TimeProvider time, ILogger<MessageCommitter> logger)
    : BackgroundService
{
    private const int MaxBatchSize = 256;
    private const int QueueCapacity = 10_000;

    private readonly Channel<PendingSend> _queue = Channel.CreateBounded<PendingSend>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Queues a send and completes once its batch has committed (or was refused).</summary>
    public async Task<CommitOutcome> CommitAsync(Guid chatId, Guid senderId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        var pending = new PendingSend(chatId, senderId, request.ClientMsgId, request.Text, request.ReplyToSeq, Activity.Current?.Context ?? default);
        // Waiting for room is safe: the request is waiting for its answer anyway.
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        // Once queued the send will be committed whatever the caller does; an abandoned request
        // is like a lost acknowledgement, and the client's retry with the same clientMsgId is safe.
        return await pending.Outcome.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingSend>(MaxBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatchSize && _queue.Reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                await CommitBatchOrEachAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            foreach (var pending in batch)
            {
                pending.Outcome.TrySetCanceled(stoppingToken);
            }
        }
    }

    /// <summary>
    /// A batch that fails is retried one send at a time, so one bad send cannot fail the others;
    /// a send that fails alone fails its own request (a 500, nothing stored).
    /// </summary>
    private async Task CommitBatchOrEachAsync(List<PendingSend> batch, CancellationToken cancellationToken)
    {
        try
        {
            await CommitBatchAsync(batch, cancellationToken);
            return;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && batch.Count > 1)
        {
            LogBatchFailed(batch.Count, exception);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogBatchFailed(batch.Count, exception);
            batch[0].Outcome.TrySetException(exception);
            return;
        }

        foreach (var pending in batch)
        {
            try
            {
                await CommitBatchAsync([pending], cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                pending.Outcome.TrySetException(exception);
            }
        }
    }

    private async Task CommitBatchAsync(List<PendingSend> batch, CancellationToken cancellationToken)
    {
        // Linked to every send it carries, so each message's trace shows the commit it waited for.
        using var activity = ChatTelemetry.Source.StartActivity(
            "chat.commit", ActivityKind.Internal, parentContext: default,
            links: batch.Where(pending => pending.Cause != default).Select(pending => new ActivityLink(pending.Cause)));
        activity?.SetTag("yac.batch.size", batch.Count);

        var started = Stopwatch.GetTimestamp();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var strategy = db.Database.CreateExecutionStrategy();
        // Retried as a whole on transient failures: everything is decided again inside the new transaction.
        var decisions = await strategy.ExecuteAsync(
            batch, (_, sends, token) => StoreAsync(db, sends, token), verifySucceeded: null, cancellationToken);

        var committed = new List<CommittedChange>(batch.Count);
        foreach (var (pending, decision) in batch.Zip(decisions))
        {
            if (decision is CommitOutcome.Stored { Message: var message })
            {
                committed.Add(new CommittedChange(
                    message.ChatId, message.Rev, ChangeTypes.Message, UserId: null, message.Seq,
                    ChangeFrames.Message(MessageResponse.From(message), message.Rev), pending.Cause));
            }
        }

        publisher.Committed(committed);
        foreach (var (pending, decision) in batch.Zip(decisions))
        {
            pending.Outcome.TrySetResult(decision);
        }

        ChatTelemetry.MessagesStored.Add(committed.Count);
        ChatTelemetry.CommitBatchSize.Record(batch.Count);
        ChatTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<CommitOutcome[]> StoreAsync(ChatDbContext db, List<PendingSend> batch, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var npgsqlTransaction = (NpgsqlTransaction)transaction.GetDbTransaction();

        var chatIds = batch.Select(pending => pending.ChatId).Distinct().Order().ToArray();
        var lastSeqs = new Dictionary<Guid, long>(chatIds.Length);
        var revs = new Dictionary<Guid, long>(chatIds.Length);
        var members = new HashSet<(Guid ChatId, Guid UserId)>();
        var existing = new Dictionary<(Guid ChatId, Guid SenderId, string ClientMsgId), Message>();

        await using (var reads = new NpgsqlBatch(connection, npgsqlTransaction))
        {
            reads.BatchCommands.Add(Command(
                "SELECT id, last_seq, rev FROM chats WHERE id = ANY(@chat_ids) ORDER BY id FOR NO KEY UPDATE",
                Parameter("chat_ids", chatIds)));
            reads.BatchCommands.Add(Command(
                """
                SELECT m.chat_id, m.user_id FROM chat_members m
                JOIN unnest(@chat_ids, @sender_ids) AS s(chat_id, sender_id) ON m.chat_id = s.chat_id AND m.user_id = s.sender_id
                """,
                Parameter("chat_ids", batch.Select(pending => pending.ChatId).ToArray()),
                Parameter("sender_ids", batch.Select(pending => pending.SenderId).ToArray())));
            reads.BatchCommands.Add(Command(
                """
                SELECT m.chat_id, m.seq, m.id, m.sender_id, m.text, m.sent_at, m.client_msg_id, m.rev, m.edited_at, m.deleted_at, m.reply_to_seq FROM messages m
                JOIN unnest(@chat_ids, @sender_ids, @client_msg_ids) AS s(chat_id, sender_id, client_msg_id)
                  ON m.chat_id = s.chat_id AND m.sender_id = s.sender_id AND m.client_msg_id = s.client_msg_id
                """,
                Parameter("chat_ids", batch.Select(pending => pending.ChatId).ToArray()),
                Parameter("sender_ids", batch.Select(pending => pending.SenderId).ToArray()),
                Parameter("client_msg_ids", batch.Select(pending => pending.ClientMsgId).ToArray())));

            await using var reader = await reads.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                lastSeqs[reader.GetGuid(0)] = reader.GetInt64(1);
                revs[reader.GetGuid(0)] = reader.GetInt64(2);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                members.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var message = new Message
                {
                    ChatId = reader.GetGuid(0),
                    Seq = reader.GetInt64(1),
                    Id = reader.GetGuid(2),
                    SenderId = reader.GetGuid(3),
                    Text = reader.GetString(4),
                    SentAt = reader.GetFieldValue<DateTime>(5),
                    ClientMsgId = reader.GetString(6),
                    Rev = reader.GetInt64(7),
                    EditedAt = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTime>(8),
                    DeletedAt = reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTime>(9),
                    ReplyToSeq = reader.IsDBNull(10) ? null : reader.GetInt64(10),
                };
                existing[(message.ChatId, message.SenderId, message.ClientMsgId)] = message;
            }
        }

        // Decide in arrival order: refused, a repeat (stored before, or earlier in this batch), or new.
        var utcNow = time.GetUtcNow().UtcDateTime;
        var sentAt = utcNow.AddTicks(-(utcNow.Ticks % TimeSpan.TicksPerMicrosecond));
        var decisions = new CommitOutcome[batch.Count];
        var accepted = new List<Message>(batch.Count);
        var acceptedTraces = new List<string?>(batch.Count); // each accepted message's cause, for its log entry
        for (var index = 0; index < batch.Count; index++)
        {
            var pending = batch[index];
            if (!lastSeqs.TryGetValue(pending.ChatId, out var lastSeq) || !members.Contains((pending.ChatId, pending.SenderId)))
            {
                decisions[index] = new CommitOutcome.Refused();
                continue;
            }

            var key = (pending.ChatId, pending.SenderId, pending.ClientMsgId);
            if (existing.TryGetValue(key, out var original))
            {
                decisions[index] = new CommitOutcome.AlreadyStored(original);
                continue;
            }

            // Seqs are gap-free and messages are never removed (a delete leaves a tombstone), so a seq of
            // this chat exists exactly when it is between 1 and the chat's last seq: no lookup needed, and a
            // reply to a message earlier in this same batch is accepted too.
            if (pending.ReplyToSeq is { } replyTo && replyTo > lastSeq)
            {
                decisions[index] = new CommitOutcome.InvalidReply();
                continue;
            }

            var message = new Message
            {
                ChatId = pending.ChatId,
                Seq = lastSeq + 1,
                Id = Guid.CreateVersion7(),
                SenderId = pending.SenderId,
                Text = pending.Text,
                SentAt = sentAt,
                ClientMsgId = pending.ClientMsgId,
                Rev = revs[pending.ChatId] + 1,
                ReplyToSeq = pending.ReplyToSeq,
            };
            lastSeqs[pending.ChatId] = message.Seq;
            revs[pending.ChatId] = message.Rev;
            existing[key] = message;
            accepted.Add(message);
            acceptedTraces.Add(ChangeTrace.Format(pending.Cause));
            decisions[index] = new CommitOutcome.Stored(message);
        }

        if (accepted.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return decisions;
        }

        var touchedChats = accepted.Select(message => message.ChatId).Distinct().ToArray();
        // Each sender's own read position moves to their newest message: your own messages are not unread.
        var readPositions = accepted
            .GroupBy(message => (message.ChatId, message.SenderId))
            .Select(group => (group.Key.ChatId, group.Key.SenderId, Seq: group.Max(message => message.Seq)))
            .ToArray();

        await using (var writes = new NpgsqlBatch(connection, npgsqlTransaction))
        {
            writes.BatchCommands.Add(Command(
                """
                INSERT INTO messages (chat_id, seq, id, sender_id, text, sent_at, client_msg_id, rev, reply_to_seq)
                SELECT * FROM unnest(@chat_ids, @seqs, @ids, @sender_ids, @texts, @sent_ats, @client_msg_ids, @revs, @reply_to_seqs)
                """,
                Parameter("chat_ids", accepted.Select(message => message.ChatId).ToArray()),
                Parameter("seqs", accepted.Select(message => message.Seq).ToArray()),
                Parameter("ids", accepted.Select(message => message.Id).ToArray()),
                Parameter("sender_ids", accepted.Select(message => message.SenderId).ToArray()),
                Parameter("texts", accepted.Select(message => message.Text).ToArray()),
                Parameter("sent_ats", accepted.Select(message => message.SentAt).ToArray()),
                Parameter("client_msg_ids", accepted.Select(message => message.ClientMsgId).ToArray()),
                Parameter("revs", accepted.Select(message => message.Rev).ToArray()),
                Parameter("reply_to_seqs", accepted.Select(message => message.ReplyToSeq).ToArray())));
            // The messages' entries in their chats' logs: written with them, or not at all.
            writes.BatchCommands.Add(Command(
                """
                INSERT INTO chat_changes (chat_id, rev, type, seq, changed_at, trace_parent)
                SELECT chat_id, rev, 'message', seq, @sent_at, trace_parent
                FROM unnest(@chat_ids, @revs, @seqs, @trace_parents) AS s(chat_id, rev, seq, trace_parent)
                """,
                Parameter("chat_ids", accepted.Select(message => message.ChatId).ToArray()),
                Parameter("revs", accepted.Select(message => message.Rev).ToArray()),
                Parameter("seqs", accepted.Select(message => message.Seq).ToArray()),
                Parameter("trace_parents", acceptedTraces.ToArray()),
                Parameter("sent_at", sentAt)));
            writes.BatchCommands.Add(Command(
                """
                UPDATE chats SET last_seq = s.last_seq, rev = s.rev, last_activity_at = @sent_at
                FROM unnest(@chat_ids, @last_seqs, @revs) AS s(chat_id, last_seq, rev)
                WHERE chats.id = s.chat_id
                """,
                Parameter("chat_ids", touchedChats),
                Parameter("last_seqs", touchedChats.Select(chatId => lastSeqs[chatId]).ToArray()),
                Parameter("revs", touchedChats.Select(chatId => revs[chatId]).ToArray()),
                Parameter("sent_at", sentAt)));
            writes.BatchCommands.Add(Command(
                """
                UPDATE chat_members SET last_read_seq = GREATEST(chat_members.last_read_seq, s.seq)
                FROM unnest(@chat_ids, @sender_ids, @seqs) AS s(chat_id, sender_id, seq)
                WHERE chat_members.chat_id = s.chat_id AND chat_members.user_id = s.sender_id
                """,
                Parameter("chat_ids", readPositions.Select(position => position.ChatId).ToArray()),
                Parameter("sender_ids", readPositions.Select(position => position.SenderId).ToArray()),
                Parameter("seqs", readPositions.Select(position => position.Seq).ToArray())));
            await writes.ExecuteNonQueryAsync(cancellationToken);
        }

        // Not cancellable: once the batch is written, its outcome must be known.
        await transaction.CommitAsync(CancellationToken.None);
        return decisions;
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<T> Parameter<T>(string name, T value) => new(name, value);

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a batch of {Count} message(s) failed")]
    private partial void LogBatchFailed(int count, Exception exception);

    private sealed record PendingSend(Guid ChatId, Guid SenderId, string ClientMsgId, string Text, long? ReplyToSeq, ActivityContext Cause)
    {
        public TaskCompletionSource<CommitOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What the committer decided for one send.</summary>
public abstract record CommitOutcome
{
    public sealed record Stored(Message Message) : CommitOutcome;

    public sealed record AlreadyStored(Message Message) : CommitOutcome;

    /// <summary>No such chat, or the sender is not a member.</summary>
    public sealed record Refused : CommitOutcome;

    /// <summary>Its <c>replyToSeq</c> is not a seq of the chat.</summary>
    public sealed record InvalidReply : CommitOutcome;
}
