using Yac.Contracts;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Which device sessions are revoked (logout, refresh-token reuse). <see cref="IAccessTokenValidator"/>
/// (hence JwtBearer in every service) refuses the access tokens of a revoked device with it.
/// Fed by Identity through Redis: the record <see cref="RedisKeys.RevokedDevices"/> and the channel
/// <see cref="Channels.Revocations"/>.
/// <para>The gateway closes a revoked device's sockets (4001) with <see cref="WatchAsync"/>:</para>
/// <code>
/// await foreach (var revoked in revocations.WatchAsync(stoppingToken))
/// {
///     connections.CloseDevice(revoked.DeviceId, closeStatus: 4001);
/// }
/// </code>
/// </summary>
public interface IDeviceRevocationList
{
    /// <summary>
    /// Whether the device session is revoked. Answers from memory when this process already knows,
    /// otherwise from the Redis record, so a revocation counts from the moment Identity answers the
    /// logout, even before the pub/sub message arrives here. If Redis cannot be reached, only what
    /// this process already knows counts (logged).
    /// </summary>
    ValueTask<bool> IsRevokedAsync(Guid deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Every revocation this process learns of from now on, for as long as the caller enumerates:
    /// from the channel, and from the Redis record after a reconnect (revocations published while
    /// this process was disconnected). Each enumeration gets its own queue (bounded: a consumer that
    /// falls thousands behind loses the oldest, and is logged).
    /// </summary>
    IAsyncEnumerable<DeviceRevokedEvent> WatchAsync(CancellationToken cancellationToken);
}

/// <summary>Identity's side: records and publishes a revocation.</summary>
public interface IDeviceRevocationPublisher
{
    /// <summary>
    /// Records the revocation in Redis, then publishes it; this process refuses the device's tokens
    /// at once. Throws if Redis cannot be reached (the caller must not report success then).
    /// </summary>
    Task PublishAsync(DeviceRevokedEvent revoked, CancellationToken cancellationToken);
}
