using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Yac.Contracts;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Chats;

/// <summary>
/// Carries the sends of all of this replica's sockets to ChatService in batches: one request
/// (<c>POST /internal/messages/batch</c>) for every send that arrived while earlier requests were on
/// their way, at most <see cref="MaxBatchesInFlight"/> of them at a time. Under light load a batch holds
/// one send and leaves at once, as a single request would; under load the batches grow instead of the
/// number of requests, the way ChatService's group commit grows its transactions.
/// <para>
/// Order is kept where the contract asks for it: a socket has one send on its way at a time (its
/// <see cref="Sockets.ChatCallQueue"/>), so its sends are in different batches, one after the other.
/// Each send carries its user's own token and its span's <c>traceparent</c>: ChatService checks each
/// alone, and each message's trace goes on from the socket's <c>ws send</c> span.
/// </para>
/// </summary>
internal sealed partial class ChatSendBatcher(ChatServiceClient chatService, ILogger<ChatSendBatcher> logger) : BackgroundService
{
    public const int MaxBatchSize = 256;
    public const int MaxBatchesInFlight = 4;

    // One send on its way per socket, so this bounds itself by the number of sockets; the bound is a
    // backstop: a send that finds it full waits (on its socket's forwarding task, never a receive loop).
    private const int QueueCapacity = 20_000;

    private readonly Channel<QueuedSend> _queue = Channel.CreateBounded<QueuedSend>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly SemaphoreSlim _batchSlots = new(MaxBatchesInFlight, MaxBatchesInFlight);

    /// <summary>Sends one message with the next batch; what ChatService answered for it.</summary>
    public async Task<ChatCallResult<MessageCreatedEvent>> SendAsync(
        string accessToken, Guid chatId, string clientMsgId, string text, long? replyToSeq, CancellationToken cancellationToken)
    {
        var queued = new QueuedSend(new BatchedSend(accessToken, chatId, clientMsgId, text, Activity.Current?.Id, replyToSeq), cancellationToken);
        await _queue.Writer.WriteAsync(queued, cancellationToken);
        return await queued.Result.Task.WaitAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _batchSlots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Each batch's span starts a trace of its own (linked to its sends), not one under whatever ran first.
        Activity.Current = null;
        var posting = new List<Task>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Waiting for a free slot is what lets the next batch fill up.
                await _batchSlots.WaitAsync(stoppingToken);
                var batch = new List<QueuedSend>();
                while (batch.Count < MaxBatchSize && _queue.Reader.TryRead(out var queued))
                {
                    // A send whose socket has gone is not sent: nobody would read its answer.
                    if (!queued.Cancellation.IsCancellationRequested)
                    {
                        batch.Add(queued);
                    }
                }

                posting.RemoveAll(task => task.IsCompleted);
                posting.Add(PostAsync(batch, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            var unsent = new List<QueuedSend>();
            while (_queue.Reader.TryRead(out var queued))
            {
                unsent.Add(queued);
            }

            Answer(unsent, ChatCallStatus.Unavailable);
        }

        await Task.WhenAll(posting);
    }

    /// <summary>Never throws: every send of the batch gets a result, whatever happens to the request.</summary>
    private async Task PostAsync(List<QueuedSend> batch, CancellationToken stoppingToken)
    {
        try
        {
            if (batch.Count == 0)
            {
                return;
            }

            // A span of its own, linked to each send's: the request serves them all, and belongs to none.
            using var activity = GatewayTelemetry.ActivitySource.StartActivity(
                "chat send batch", ActivityKind.Internal, parentContext: default,
                links: batch
                    .Select(queued => ActivityContext.TryParse(queued.Send.TraceParent, null, out var send) ? send : default)
                    .Where(send => send != default)
                    .Select(send => new ActivityLink(send)));
            activity?.SetTag("yac.batch.size", batch.Count);
            GatewayTelemetry.SendBatchSize.Record(batch.Count);

            var response = await chatService.SendBatchAsync([.. batch.Select(queued => queued.Send)], stoppingToken);
            if (response is { Status: ChatCallStatus.Ok, Value.Results: { } results } && results.Count == batch.Count)
            {
                for (var index = 0; index < batch.Count; index++)
                {
                    var status = ChatServiceClient.Map((HttpStatusCode)results[index].Status);
                    batch[index].Result.TrySetResult(new ChatCallResult<MessageCreatedEvent>(
                        status == ChatCallStatus.Ok && results[index].Message is null ? ChatCallStatus.Unavailable : status,
                        results[index].Message));
                }

                return;
            }

            var failed = response.Status == ChatCallStatus.Ok ? ChatCallStatus.Unavailable : response.Status;
            activity?.SetStatus(ActivityStatusCode.Error, failed.ToString());
            LogBatchFailed(batch.Count, failed);
            Answer(batch, failed);
        }
        catch (Exception exception)
        {
            // Cancelled by shutdown, or a bug: the sends are unanswered as unavailable (clients resend them).
            LogBatchError(batch.Count, exception);
            Answer(batch, ChatCallStatus.Unavailable);
        }
        finally
        {
            _batchSlots.Release();
        }
    }

    /// <summary>The same failure for every send of a batch that got no answer of its own.</summary>
    private static void Answer(List<QueuedSend> sends, ChatCallStatus failure)
    {
        var result = new ChatCallResult<MessageCreatedEvent>(failure, default);
        foreach (var queued in sends)
        {
            queued.Result.TrySetResult(result);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} send(s) was not accepted by ChatService: {Status}")]
    private partial void LogBatchFailed(int count, ChatCallStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} send(s) failed")]
    private partial void LogBatchError(int count, Exception exception);

    private sealed record QueuedSend(BatchedSend Send, CancellationToken Cancellation)
    {
        public TaskCompletionSource<ChatCallResult<MessageCreatedEvent>> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
