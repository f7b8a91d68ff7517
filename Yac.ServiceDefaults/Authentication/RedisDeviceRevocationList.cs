using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// <see cref="IDeviceRevocationList"/> and <see cref="IDeviceRevocationPublisher"/> on Redis: an
/// in-memory set fed by <see cref="Channels.Revocations"/> and loaded from the
/// <see cref="RedisKeys.RevokedDevices"/> sorted set at start and after every reconnect, plus a
/// lookup of that set for devices not (yet) known here, which closes the race between Identity's
/// 204 and the pub/sub message.
/// </summary>
internal sealed partial class RedisDeviceRevocationList(
    IServiceProvider services,
    TimeProvider timeProvider,
    ILogger<RedisDeviceRevocationList> logger) : BackgroundService, IDeviceRevocationList, IDeviceRevocationPublisher
{
    private const int WatcherCapacity = 4096;

    private static readonly ActivitySource s_activitySource = new("Yac.Authentication.Revocations");
    private static readonly RedisChannel s_channel = RedisChannel.Literal(Channels.Revocations);
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_pruneInterval = TimeSpan.FromMinutes(1);

    // Device id -> until when its tokens must be refused.
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revoked = new();
    private readonly Lock _watchersLock = new();
    private readonly List<Channel<DeviceRevokedEvent>> _watchers = [];
    private int _redisUnavailableLogged;
    private CancellationToken _stoppingToken;

    // Resolved lazily: the multiplexer connects on first use, and a service without Redis fails
    // here with a clear message rather than at startup of every consumer.
    private IConnectionMultiplexer Redis => services.GetService<IConnectionMultiplexer>()
        ?? throw new InvalidOperationException("AddDefaultAuthentication needs a Redis client: call builder.AddRedisClient(\"redis\") too.");

    public async ValueTask<bool> IsRevokedAsync(Guid deviceId, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (_revoked.TryGetValue(deviceId, out var until) && until > now)
        {
            return true;
        }

        if (!Redis.IsConnected)
        {
            // Known to be down: fail open at once instead of holding every request until the
            // command times out (seconds per request for as long as the outage lasts).
            if (Interlocked.Exchange(ref _redisUnavailableLogged, 1) == 0)
            {
                LogLookupSkipped();
            }

            return false;
        }

        try
        {
            var score = await Redis.GetDatabase()
                .SortedSetScoreAsync(RedisKeys.RevokedDevices, deviceId.ToString("D"))
                .WaitAsync(cancellationToken);
            Interlocked.Exchange(ref _redisUnavailableLogged, 0);
            if (score is { } unixMilliseconds && DateTimeOffset.FromUnixTimeMilliseconds((long)unixMilliseconds) > now)
            {
                Remember(deviceId, DateTimeOffset.FromUnixTimeMilliseconds((long)unixMilliseconds));
                return true;
            }

            return false;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Fail open on what this process knows: a Redis outage must not log every user out.
            if (Interlocked.Exchange(ref _redisUnavailableLogged, 1) == 0)
            {
                LogLookupFailed(exception);
            }

            return false;
        }
    }

    public async IAsyncEnumerable<DeviceRevokedEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<DeviceRevokedEvent>(new BoundedChannelOptions(WatcherCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.DropOldest,
        });
        lock (_watchersLock)
        {
            _watchers.Add(queue);
        }

        try
        {
            await foreach (var revoked in queue.Reader.ReadAllAsync(cancellationToken))
            {
                yield return revoked;
            }
        }
        finally
        {
            lock (_watchersLock)
            {
                _watchers.Remove(queue);
            }
        }
    }

    public async Task PublishAsync(DeviceRevokedEvent revoked, CancellationToken cancellationToken)
    {
        var until = revoked.ExpiresAt ?? throw new ArgumentException("A published revocation says until when it counts.", nameof(revoked));
        Remember(revoked.DeviceId, until);

        using var activity = EventEnvelopeTracing.StartPublishActivity(s_activitySource, Channels.Revocations, EventTypes.DeviceRevoked);
        var database = Redis.GetDatabase();
        var now = timeProvider.GetUtcNow();
        // The record first: a service that misses the message still finds the device revoked.
        await database.SortedSetAddAsync(RedisKeys.RevokedDevices, revoked.DeviceId.ToString("D"), until.ToUnixTimeMilliseconds())
            .WaitAsync(cancellationToken);
        await database.SortedSetRemoveRangeByScoreAsync(RedisKeys.RevokedDevices, double.NegativeInfinity, now.ToUnixTimeMilliseconds())
            .WaitAsync(cancellationToken);

        var envelope = EventEnvelopeTracing.CreateEnvelope(EventTypes.DeviceRevoked, revoked, ContractsJsonContext.Default.DeviceRevokedEvent);
        var payload = JsonSerializer.SerializeToUtf8Bytes(envelope, ContractsJsonContext.Default.EventEnvelope);
        await Redis.GetSubscriber().PublishAsync(s_channel, payload).WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        await SubscribeAsync(stoppingToken);
        Redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            await LoadRecordAsync(stoppingToken);
            using var timer = new PeriodicTimer(s_pruneInterval, timeProvider);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Prune();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        // The multiplexer restores the subscription by itself after a reconnect; only the first
        // subscribe has to be retried until Redis answers.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var queue = await Redis.GetSubscriber().SubscribeAsync(s_channel);
                queue.OnMessage(OnMessageAsync);
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogSubscribeFailed(exception);
                await Task.Delay(s_retryDelay, timeProvider, stoppingToken);
            }
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Interactive)
        {
            // Revocations published while disconnected were missed on the channel; the record has them.
            // Fire and forget: the event is raised on the multiplexer's thread, and LoadRecordAsync
            // handles its own failures (retrying until it succeeds or the host stops).
            _ = LoadRecordAsync(_stoppingToken);
        }
    }

    private async Task LoadRecordAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var now = timeProvider.GetUtcNow();
                var entries = await Redis.GetDatabase().SortedSetRangeByScoreWithScoresAsync(
                    RedisKeys.RevokedDevices, now.ToUnixTimeMilliseconds(), double.PositiveInfinity);
                foreach (var entry in entries)
                {
                    if (Guid.TryParse(entry.Element.ToString(), out var deviceId))
                    {
                        var until = DateTimeOffset.FromUnixTimeMilliseconds((long)entry.Score);
                        if (Remember(deviceId, until))
                        {
                            // The user id is not in the record; watchers close sockets by device.
                            Notify(new DeviceRevokedEvent(Guid.Empty, deviceId, now) { ExpiresAt = until });
                        }
                    }
                }

                LogRecordLoaded(entries.Length);
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogLoadFailed(exception);
                await Task.Delay(s_retryDelay, timeProvider, cancellationToken);
            }
        }
    }

    private Task OnMessageAsync(ChannelMessage message)
    {
        EventEnvelope? envelope;
        DeviceRevokedEvent? revoked;
        try
        {
            envelope = JsonSerializer.Deserialize((byte[])message.Message!, ContractsJsonContext.Default.EventEnvelope);
            if (envelope is null || envelope.V != EventEnvelope.CurrentVersion || envelope.Type != EventTypes.DeviceRevoked)
            {
                return Task.CompletedTask;
            }

            revoked = envelope.Data.Deserialize(ContractsJsonContext.Default.DeviceRevokedEvent);
        }
        catch (JsonException exception)
        {
            LogMalformedMessage(exception);
            return Task.CompletedTask;
        }

        if (revoked is null)
        {
            return Task.CompletedTask;
        }

        using var activity = EventEnvelopeTracing.StartReceiveActivity(s_activitySource, Channels.Revocations, envelope);
        // An event without ExpiresAt (older publisher) is kept for a day: longer than any access token.
        Remember(revoked.DeviceId, revoked.ExpiresAt ?? revoked.RevokedAt.AddDays(1));
        Notify(revoked);
        return Task.CompletedTask;
    }

    /// <returns>Whether the device was not known as revoked before.</returns>
    private bool Remember(Guid deviceId, DateTimeOffset until)
    {
        var added = false;
        _revoked.AddOrUpdate(
            deviceId,
            _ =>
            {
                added = true;
                return until;
            },
            (_, known) => known > until ? known : until);
        return added;
    }

    private void Notify(DeviceRevokedEvent revoked)
    {
        lock (_watchersLock)
        {
            foreach (var watcher in _watchers)
            {
                if (watcher.Reader.Count >= WatcherCapacity)
                {
                    LogWatcherOverflow(WatcherCapacity, revoked.DeviceId);
                }

                watcher.Writer.TryWrite(revoked);
            }
        }
    }

    private void Prune()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (deviceId, until) in _revoked)
        {
            if (until <= now)
            {
                _revoked.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(deviceId, until));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revocation lookup in Redis failed; only revocations already known to this process are enforced until Redis answers")]
    private partial void LogLookupFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is disconnected; only revocations already known to this process are enforced until it is back")]
    private partial void LogLookupSkipped();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to revocations failed; retrying")]
    private partial void LogSubscribeFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading revoked devices from Redis failed; retrying")]
    private partial void LogLoadFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded {Count} revoked device(s) from Redis")]
    private partial void LogRecordLoaded(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a malformed revocation message")]
    private partial void LogMalformedMessage(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A revocation watcher is {Capacity} events behind; the oldest is dropped (device {DeviceId} queued)")]
    private partial void LogWatcherOverflow(int capacity, Guid deviceId);
}
