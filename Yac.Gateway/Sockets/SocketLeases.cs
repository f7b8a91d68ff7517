using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Yac.Contracts;

namespace Yac.Gateway.Sockets;

/// <summary>Which cap refused a socket (<see cref="None"/>: it got its lease).</summary>
internal enum SocketLimit
{
    None,
    PerUser,
    PerDevice,
}

/// <summary>
/// The caps on open sockets per user and per device, across every gateway replica. Each open socket
/// holds a lease: a member of two Redis sorted sets (<c>yac:sockets:user:{id}</c> and
/// <c>yac:sockets:device:{id}</c>) whose score is the moment it expires. A socket is admitted by one
/// <c>MULTI</c> that drops expired members, adds its own to both sets and counts them; over either cap,
/// it takes its member out again and is refused (two sockets racing for the last place may both be
/// refused, never both admitted). The socket's end removes its member; this replica renews its
/// members every third of <see cref="GatewayOptions.SocketLeaseLifetime"/>, so the leases of a
/// replica that died expire by themselves. No Lua (Garnet's is off). While Redis is unreachable
/// sockets are admitted (a cap is not worth an outage) and renewed into the sets once it answers.
/// </summary>
internal sealed partial class SocketLeases(
    IConnectionMultiplexer redis,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SocketLeases> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, SocketLease> _held = new(StringComparer.Ordinal);
    private int _unavailableLogged;

    internal static RedisKey UserKey(Guid userId) => $"{Channels.Prefix}sockets:user:{userId:N}";

    internal static RedisKey DeviceKey(Guid deviceId) => $"{Channels.Prefix}sockets:device:{deviceId:N}";

    /// <summary>The lease of a new socket of <paramref name="userId"/>'s <paramref name="deviceId"/>, or the cap it would break.</summary>
    public async Task<(SocketLease? Lease, SocketLimit Refused)> TryAcquireAsync(Guid userId, Guid deviceId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var lease = new SocketLease(this, Guid.NewGuid().ToString("N"), userId, deviceId);
        if (!redis.IsConnected)
        {
            LogUnavailable(exception: null);
            _held[lease.Id] = lease;
            return (lease, SocketLimit.None);
        }

        try
        {
            var now = time.GetUtcNow();
            var expires = (now + settings.SocketLeaseLifetime).ToUnixTimeMilliseconds();
            var transaction = redis.GetDatabase().CreateTransaction();
            var userKey = UserKey(userId);
            var deviceKey = DeviceKey(deviceId);
            _ = transaction.SortedSetRemoveRangeByScoreAsync(userKey, double.NegativeInfinity, now.ToUnixTimeMilliseconds());
            _ = transaction.SortedSetRemoveRangeByScoreAsync(deviceKey, double.NegativeInfinity, now.ToUnixTimeMilliseconds());
            _ = transaction.SortedSetAddAsync(userKey, lease.Id, expires);
            _ = transaction.SortedSetAddAsync(deviceKey, lease.Id, expires);
            var userSockets = transaction.SortedSetLengthAsync(userKey);
            var deviceSockets = transaction.SortedSetLengthAsync(deviceKey);
            _ = transaction.KeyExpireAsync(userKey, settings.SocketLeaseLifetime);
            _ = transaction.KeyExpireAsync(deviceKey, settings.SocketLeaseLifetime);
            if (!await transaction.ExecuteAsync().WaitAsync(cancellationToken))
            {
                _held[lease.Id] = lease;
                return (lease, SocketLimit.None);
            }

            var refused = await userSockets > settings.MaxSocketsPerUser ? SocketLimit.PerUser
                : await deviceSockets > settings.MaxSocketsPerDevice ? SocketLimit.PerDevice
                : SocketLimit.None;
            if (refused != SocketLimit.None)
            {
                await RemoveAsync(lease);
                return (null, refused);
            }

            Interlocked.Exchange(ref _unavailableLogged, 0);
            _held[lease.Id] = lease;
            return (lease, SocketLimit.None);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnavailable(exception);
            _held[lease.Id] = lease;
            return (lease, SocketLimit.None);
        }
    }

    /// <summary>The leases this replica holds now.</summary>
    internal int HeldCount => _held.Count;

    internal async Task ReleaseAsync(SocketLease lease)
    {
        if (_held.TryRemove(lease.Id, out _))
        {
            await RemoveAsync(lease);
        }
    }

    private async Task RemoveAsync(SocketLease lease)
    {
        if (!redis.IsConnected)
        {
            return; // the member expires by itself
        }

        try
        {
            var batch = redis.GetDatabase().CreateBatch();
            var user = batch.SortedSetRemoveAsync(UserKey(lease.UserId), lease.Id);
            var device = batch.SortedSetRemoveAsync(DeviceKey(lease.DeviceId), lease.Id);
            batch.Execute();
            await Task.WhenAll(user, device);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnavailable(exception);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SocketLeaseLifetime / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Pushes the expiry of every lease held here one lifetime ahead (and puts back any that an outage lost).</summary>
    private async Task RenewAsync()
    {
        if (_held.IsEmpty || !redis.IsConnected)
        {
            return;
        }

        var lifetime = options.Value.SocketLeaseLifetime;
        var expires = (time.GetUtcNow() + lifetime).ToUnixTimeMilliseconds();
        var batch = redis.GetDatabase().CreateBatch();
        var writes = new List<Task>(_held.Count * 4);
        foreach (var lease in _held.Values)
        {
            writes.Add(batch.SortedSetAddAsync(UserKey(lease.UserId), lease.Id, expires));
            writes.Add(batch.SortedSetAddAsync(DeviceKey(lease.DeviceId), lease.Id, expires));
            writes.Add(batch.KeyExpireAsync(UserKey(lease.UserId), lifetime));
            writes.Add(batch.KeyExpireAsync(DeviceKey(lease.DeviceId), lifetime));
        }

        batch.Execute();
        try
        {
            await Task.WhenAll(writes);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogUnavailable(exception);
        }
    }

    private void LogUnavailable(Exception? exception)
    {
        if (Interlocked.Exchange(ref _unavailableLogged, 1) == 0)
        {
            LogLeasesUnavailable(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Socket leases are unavailable (Redis); sockets are admitted without the per-user and per-device caps until it answers")]
    private partial void LogLeasesUnavailable(Exception? exception);
}

/// <summary>One open socket's place under the caps; released once, when the socket ends.</summary>
internal sealed class SocketLease(SocketLeases owner, string id, Guid userId, Guid deviceId) : IAsyncDisposable
{
    public string Id { get; } = id;

    public Guid UserId { get; } = userId;

    public Guid DeviceId { get; } = deviceId;

    public async ValueTask DisposeAsync() => await owner.ReleaseAsync(this);
}
