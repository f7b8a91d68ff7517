using System.Text.Json;
using System.Threading.Channels;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;

namespace Yac.ChatService.Events;

/// <summary>
/// Publishes committed changes on Redis pub/sub from one background loop, in the order they were
/// queued. Requests only queue (never wait for Redis), so a slow or absent Redis never turns a
/// committed change into an error; a full queue drops the event with a log line and clients
/// recover it from history (a message leaves a seq gap the gateway fills).
/// </summary>
public sealed partial class EventPublisher(IConnectionMultiplexer redis, ILogger<EventPublisher> logger) : BackgroundService
{
    private const int QueueCapacity = 50_000;
    private const int BatchSize = 256;
    private const int PublishAttempts = 3;
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(200);

    private readonly Channel<OutgoingEvent> _queue = Channel.CreateBounded<OutgoingEvent>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Queues an event; never blocks. Returns false (and logs) when the queue is full.</summary>
    public bool TryQueue(OutgoingEvent outgoing)
    {
        if (_queue.Writer.TryWrite(outgoing))
        {
            return true;
        }

        ChatTelemetry.EventsDropped.Add(1);
        LogQueueFull(outgoing.Type);
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<OutgoingEvent>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < BatchSize && _queue.Reader.TryRead(out var outgoing))
                {
                    batch.Add(outgoing);
                }

                await PublishBatchAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: whatever is still queued is recovered by clients through history.
        }
    }

    /// <summary>
    /// Issues every publish of the batch before awaiting any: StackExchange.Redis writes them in
    /// order on one connection, so order is kept while round trips overlap.
    /// </summary>
    private async Task PublishBatchAsync(List<OutgoingEvent> batch, CancellationToken cancellationToken)
    {
        var pending = new List<(OutgoingEvent Event, string Channel, byte[] Payload)>(batch.Count);
        foreach (var outgoing in batch)
        {
            var payload = Serialize(outgoing);
            foreach (var channel in outgoing.Channels)
            {
                pending.Add((outgoing, channel, payload));
            }
        }

        var subscriber = redis.GetSubscriber();
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var publishes = pending.Select(item => PublishAsync(subscriber, item.Channel, item.Payload)).ToArray();
            var succeeded = await Task.WhenAll(publishes);
            pending = [.. pending.Where((_, index) => !succeeded[index])];
            if (pending.Count == 0)
            {
                return;
            }

            if (attempt == PublishAttempts)
            {
                ChatTelemetry.EventsDropped.Add(pending.Count);
                LogDropped(pending.Count, PublishAttempts);
                return;
            }

            await Task.Delay(s_retryDelay, cancellationToken);
        }
    }

    private async Task<bool> PublishAsync(ISubscriber subscriber, string channel, byte[] payload)
    {
        try
        {
            await subscriber.PublishAsync(RedisChannel.Literal(channel), payload);
            ChatTelemetry.EventsPublished.Add(1);
            return true;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogPublishFailed(channel, exception);
            return false;
        }
    }

    /// <summary>
    /// One producer span per event, child of the activity that caused it; its context goes into the
    /// envelope so consumers continue the same trace across the Redis hop (the cause's own context
    /// when nobody listens to this service's activities, so the trace still goes on).
    /// </summary>
    private static byte[] Serialize(OutgoingEvent outgoing)
    {
        using var activity = EventEnvelopeTracing.StartPublishActivity(ChatTelemetry.Source, outgoing.Channels[0], outgoing.Type, outgoing.Cause);
        var envelope = EventEnvelopeTracing.CreateEnvelope(outgoing.Type, outgoing.Data, activity?.Context ?? outgoing.Cause);
        return JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.EventEnvelope);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event queue full; {EventType} not published (clients recover through history)")]
    private partial void LogQueueFull(string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing on {Channel} failed")]
    private partial void LogPublishFailed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} event publish(es) dropped after {Attempts} attempts (clients recover through history)")]
    private partial void LogDropped(int count, int attempts);
}
