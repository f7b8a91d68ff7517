using System.Threading.Channels;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.Gateway.Delivery;
using Yac.Gateway.Sockets;

namespace Yac.Gateway.Presence;

/// <summary>
/// Who is online across all replicas. In Redis: <c>yac:presence:{user}</c> is the set of replicas
/// holding a socket of the user (online while it is not empty); each replica keeps a heartbeat key
/// with a TTL and a hash of its users (with their chats). A replica that dies stops its heartbeat;
/// within <see cref="HeartbeatTtl"/> plus one <see cref="HeartbeatInterval"/> another replica takes
/// its users out of their sets and announces those left without any replica as offline.
/// Changes of one user are applied in order by one loop. That loop also remembers who is connected
/// here, so that after a lost Redis connection (changes that failed meanwhile, or a Redis that came
/// back empty) it puts this replica's users back and announces those who left meanwhile as offline.
/// </summary>
internal sealed partial class PresenceTracker(
    IConnectionMultiplexer redis,
    RedisPublisher publisher,
    GatewayIdentity gateway,
    TimeProvider time,
    Microsoft.Extensions.Options.IOptions<GatewayOptions> options,
    ILogger<PresenceTracker> logger) : BackgroundService
{
    private TimeSpan HeartbeatInterval => options.Value.PresenceHeartbeatInterval;

    private TimeSpan HeartbeatTtl => options.Value.PresenceHeartbeatTtl;

    private const string GatewaysKey = Channels.Prefix + "gateways";

    /// <summary>A user's change, or (no user) a request to reconcile Redis with this replica's users.</summary>
    private readonly record struct Change(Guid UserId, bool Online, Guid[] ChatIds)
    {
        public static Change Reconcile => new(Guid.Empty, false, []);

        public bool IsReconcile => UserId == Guid.Empty;
    }

    private readonly Channel<Change> _changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });

    // Owned by the loop: the users with a socket here (with their chats), and those whose last change
    // may not have reached Redis.
    private readonly Dictionary<Guid, Guid[]> _local = [];
    private readonly Dictionary<Guid, Guid[]> _unsynced = [];
    private long _reapNotBefore;

    public void UserConnected(Guid userId, IReadOnlyCollection<Guid> chatIds) => _changes.Writer.TryWrite(new Change(userId, true, [.. chatIds]));

    public void UserDisconnected(Guid userId, IReadOnlyCollection<Guid> chatIds) => _changes.Writer.TryWrite(new Change(userId, false, [.. chatIds]));

    private static RedisKey UserKey(Guid userId) => $"{Channels.Prefix}presence:{userId:D}";

    private static RedisKey AliveKey(string gatewayId) => $"{Channels.Prefix}gateway:{gatewayId}:alive";

    private static RedisKey UsersKey(string gatewayId) => $"{Channels.Prefix}gateway:{gatewayId}:users";

    private static RedisKey ReaperKey(string gatewayId) => $"{Channels.Prefix}gateway:{gatewayId}:reaper";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            await Task.WhenAll(ApplyChangesAsync(stoppingToken), HeartbeatAsync(stoppingToken));
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs args)
    {
        if (args.ConnectionType == ConnectionType.Interactive)
        {
            // Other replicas' heartbeats may have expired during the outage: give them one interval
            // to renew before taking anyone offline.
            Volatile.Write(ref _reapNotBefore, time.GetUtcNow().Add(HeartbeatInterval).UtcTicks);
            _changes.Writer.TryWrite(Change.Reconcile);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // Sockets are closed by now (graceful shutdown): whatever is left is stale.
            var database = redis.GetDatabase();
            await database.KeyDeleteAsync([AliveKey(gateway.Id), UsersKey(gateway.Id)]);
            await database.SetRemoveAsync(GatewaysKey, gateway.Id);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogRedisFailed(exception);
        }
    }

    private async Task ApplyChangesAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                if (change.IsReconcile)
                {
                    await ReconcileAsync();
                    continue;
                }

                if (change.Online)
                {
                    _local[change.UserId] = change.ChatIds;
                }
                else
                {
                    _local.Remove(change.UserId);
                }

                try
                {
                    await ApplyAsync(change.UserId, change.Online, change.ChatIds);
                    _unsynced.Remove(change.UserId);
                }
                catch (Exception exception) when (exception is RedisException or TimeoutException)
                {
                    _unsynced[change.UserId] = change.ChatIds;
                    LogRedisFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ApplyAsync(Guid userId, bool online, Guid[] chatIds)
    {
        var database = redis.GetDatabase();
        var transaction = database.CreateTransaction();
        var userKey = UserKey(userId);
        _ = online ? transaction.SetAddAsync(userKey, gateway.Id) : transaction.SetRemoveAsync(userKey, gateway.Id);
        _ = online
            ? transaction.HashSetAsync(UsersKey(gateway.Id), userId.ToString("D"), string.Join(',', chatIds))
            : transaction.HashDeleteAsync(UsersKey(gateway.Id), userId.ToString("D"));
        var replicas = transaction.SetLengthAsync(userKey);
        await transaction.ExecuteAsync();

        // Online at the first replica, offline when the last one let go.
        if ((online && await replicas == 1) || (!online && await replicas == 0))
        {
            await PublishAsync(userId, online, chatIds);
        }
    }

    /// <summary>
    /// After a reconnect: every local user is in their set again (announced online if the set was
    /// empty, e.g. a Redis that lost its data), and every user who left while their change could not
    /// be applied is taken out (announced offline if no replica holds them).
    /// </summary>
    private async Task ReconcileAsync()
    {
        var database = redis.GetDatabase();
        var reconciled = 0;
        try
        {
            await RenewHeartbeatAsync(database);
            foreach (var (userId, chatIds) in _local)
            {
                var userKey = UserKey(userId);
                var transaction = database.CreateTransaction();
                var added = transaction.SetAddAsync(userKey, gateway.Id);
                _ = transaction.HashSetAsync(UsersKey(gateway.Id), userId.ToString("D"), string.Join(',', chatIds));
                var replicas = transaction.SetLengthAsync(userKey);
                await transaction.ExecuteAsync();
                if (await added && await replicas == 1)
                {
                    await PublishAsync(userId, online: true, chatIds);
                }

                _unsynced.Remove(userId);
                reconciled++;
            }

            foreach (var (userId, chatIds) in _unsynced.ToList())
            {
                await ApplyAsync(userId, online: false, chatIds);
                _unsynced.Remove(userId);
                reconciled++;
            }

            LogReconciled(reconciled);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // Gone again: the next reconnect reconciles again.
            LogRedisFailed(exception);
        }
    }

    private Task PublishAsync(Guid userId, bool online, IReadOnlyList<Guid> chatIds) =>
        publisher.PublishAsync(
            Channels.Presence, EventTypes.PresenceChanged, new PresenceChangedEvent(userId, online, chatIds),
            ContractsJsonContext.Default.PresenceChangedEvent);

    private async Task HeartbeatAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        do
        {
            try
            {
                var database = redis.GetDatabase();
                await RenewHeartbeatAsync(database);
                if (time.GetUtcNow().UtcTicks >= Volatile.Read(ref _reapNotBefore))
                {
                    await ReapDeadReplicasAsync(database);
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                LogRedisFailed(exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private async Task RenewHeartbeatAsync(IDatabase database)
    {
        await database.StringSetAsync(AliveKey(gateway.Id), "1", HeartbeatTtl);
        await database.SetAddAsync(GatewaysKey, gateway.Id);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReapDeadReplicasAsync(IDatabase database)
    {
        foreach (var member in await database.SetMembersAsync(GatewaysKey))
        {
            var deadId = member.ToString();
            if (deadId == gateway.Id
                || await database.KeyExistsAsync(AliveKey(deadId))
                || !await database.StringSetAsync(ReaperKey(deadId), gateway.Id, HeartbeatTtl, When.NotExists))
            {
                continue;
            }

            var users = await database.HashGetAllAsync(UsersKey(deadId));
            LogReaping(deadId, users.Length);
            foreach (var entry in users)
            {
                if (!Guid.TryParse(entry.Name.ToString(), out var userId))
                {
                    continue;
                }

                var transaction = database.CreateTransaction();
                _ = transaction.SetRemoveAsync(UserKey(userId), deadId);
                var replicas = transaction.SetLengthAsync(UserKey(userId));
                await transaction.ExecuteAsync();
                if (await replicas == 0)
                {
                    var chatIds = entry.Value.ToString()
                        .Split(',', StringSplitOptions.RemoveEmptyEntries)
                        .Select(id => Guid.TryParse(id, out var chatId) ? chatId : Guid.Empty)
                        .Where(chatId => chatId != Guid.Empty)
                        .ToList();
                    await PublishAsync(userId, online: false, chatIds);
                }
            }

            await database.KeyDeleteAsync(UsersKey(deadId));
            await database.SetRemoveAsync(GatewaysKey, deadId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence could not reach Redis")]
    private partial void LogRedisFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection restored; presence of {Users} user(s) reconciled")]
    private partial void LogReconciled(int users);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway replica {GatewayId} stopped its heartbeat; taking its {Users} users offline")]
    private partial void LogReaping(string gatewayId, int users);
}
