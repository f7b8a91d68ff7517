using System.Threading.Channels;
using StackExchange.Redis;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Delivery;

/// <summary>
/// This replica's Redis subscriptions, changed by one loop so that subscribe and unsubscribe of a
/// channel always happen in the order they were asked for. Each channel has its own ordered queue
/// (events of one chat are handled in publish order). A subscribe that fails (Redis down) is retried
/// until it succeeds or is no longer wanted; once subscribed, StackExchange.Redis restores the
/// subscriptions itself after a reconnect.
/// </summary>
internal sealed partial class RedisSubscriptions(IConnectionMultiplexer redis, ILogger<RedisSubscriptions> logger) : BackgroundService
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);

    private readonly Channel<(Operation Operation, bool IsRetry)> _operations =
        Channel.CreateUnbounded<(Operation, bool)>(new UnboundedChannelOptions { SingleReader = true });

    // Owned by the loop.
    private readonly Dictionary<string, ChannelMessageQueue> _active = [];
    private readonly Dictionary<string, Operation> _wanted = [];

    /// <summary>Subscribes (or keeps) a channel; the task completes once Redis confirmed the subscription.</summary>
    public Task SubscribeAsync(string channel, Func<ChannelMessage, Task> handler)
    {
        var operation = new Operation(channel, handler, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _operations.Writer.TryWrite((operation, false));
        return operation.Subscribed!.Task;
    }

    public void Unsubscribe(string channel) => _operations.Writer.TryWrite((new Operation(channel, null, null), false));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            await foreach (var (operation, isRetry) in _operations.Reader.ReadAllAsync(stoppingToken))
            {
                await ApplyAsync(operation, isRetry, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    /// <summary>Raised after the subscription connection came back (subscriptions are restored by then).</summary>
    public event Action? Reconnected;

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType != ConnectionType.Subscription)
        {
            return;
        }

        GatewayTelemetry.RedisReconnects.Add(1);
        LogReconnected();
        Reconnected?.Invoke();
    }

    private async Task ApplyAsync(Operation operation, bool isRetry, CancellationToken stoppingToken)
    {
        if (operation.Handler is null)
        {
            _wanted.Remove(operation.Channel);
            if (_active.Remove(operation.Channel, out var queue))
            {
                try
                {
                    await queue.UnsubscribeAsync();
                }
                catch (Exception exception) when (exception is RedisException or TimeoutException)
                {
                    LogUnsubscribeFailed(operation.Channel, exception);
                }
            }

            return;
        }

        if (isRetry && (!_wanted.TryGetValue(operation.Channel, out var wanted) || !ReferenceEquals(wanted, operation)))
        {
            return; // unsubscribed (or subscribed afresh) meanwhile
        }

        _wanted[operation.Channel] = operation;
        if (_active.ContainsKey(operation.Channel))
        {
            operation.Subscribed!.TrySetResult();
            return;
        }

        try
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(operation.Channel));
            queue.OnMessage(operation.Handler);
            _active[operation.Channel] = queue;
            operation.Subscribed!.TrySetResult();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogSubscribeFailed(operation.Channel, exception);
            _ = RetryLaterAsync(operation, stoppingToken);
        }
    }

    private async Task RetryLaterAsync(Operation operation, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(s_retryDelay, stoppingToken);
            _operations.Writer.TryWrite((operation, true));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A subscribe (with a handler) or an unsubscribe. A class: retries are recognized by reference.</summary>
    private sealed class Operation(string channel, Func<ChannelMessage, Task>? handler, TaskCompletionSource? subscribed)
    {
        public string Channel { get; } = channel;

        public Func<ChannelMessage, Task>? Handler { get; } = handler;

        public TaskCompletionSource? Subscribed { get; } = subscribed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to {Channel} failed; retrying")]
    private partial void LogSubscribeFailed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unsubscribing from {Channel} failed")]
    private partial void LogUnsubscribeFailed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis subscription connection restored; catching up on every chat")]
    private partial void LogReconnected();
}
