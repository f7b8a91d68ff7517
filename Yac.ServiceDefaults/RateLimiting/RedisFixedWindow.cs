using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Yac.ServiceDefaults.RateLimiting;

/// <summary>A limit of <see cref="PermitLimit"/> per <see cref="Window"/> (fixed windows, started by the first use).</summary>
public sealed class FixedWindowLimit
{
    public int PermitLimit { get; set; }

    public TimeSpan Window { get; set; }

    public static FixedWindowLimit Of(int permitLimit, TimeSpan window) => new() { PermitLimit = permitLimit, Window = window };
}

/// <summary>A window's count after an increment, and how long until the window ends.</summary>
public readonly record struct WindowCount(long Count, TimeSpan ResetsIn);

/// <summary>
/// Fixed-window counters in Redis, shared by every replica of every service and kept across
/// restarts: <c>SET key 0 PX window NX</c> then <c>INCRBY</c> and <c>PTTL</c>, in one
/// <c>MULTI</c>/<c>EXEC</c>. The window starts at the first increment and ends when the key expires
/// (Redis's clock, not the replicas'). No Lua, so redis-server and the embedded Garnet (whose Lua
/// is off) behave the same. When Redis cannot be reached the counters answer null and callers let
/// the request through (a limit is not worth an outage: ChatService keeps committing without
/// Redis); while the multiplexer knows it is disconnected they answer at once instead of waiting
/// for a command's timeout. That is logged at most once a minute.
/// </summary>
public sealed partial class RedisFixedWindow(IConnectionMultiplexer redis, TimeProvider time, ILogger<RedisFixedWindow> logger)
{
    public const string KeyPrefix = "yac:rl:";

    private static readonly TimeSpan s_logInterval = TimeSpan.FromMinutes(1);
    private long _lastFailureLoggedAt = long.MinValue;

    /// <summary>Adds <paramref name="amount"/> to the window of <paramref name="key"/>; null when Redis is unreachable.</summary>
    public async Task<WindowCount?> IncrementAsync(RedisKey key, TimeSpan window, long amount = 1, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            LogFailure(exception: null);
            return null;
        }

        try
        {
            var transaction = redis.GetDatabase().CreateTransaction();
            _ = transaction.StringSetAsync(key, 0, window, When.NotExists);
            var count = transaction.StringIncrementAsync(key, amount);
            var ttl = transaction.KeyTimeToLiveAsync(key);
            if (!await transaction.ExecuteAsync().WaitAsync(cancellationToken))
            {
                return null;
            }

            return new WindowCount(await count, await ttl is { } left && left > TimeSpan.Zero ? left : window);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogFailure(exception);
            return null;
        }
    }

    /// <summary>Gives back what an increment took, if the window still exists (a new window is never made negative).</summary>
    public async Task DecrementAsync(RedisKey key, long amount = 1)
    {
        try
        {
            var transaction = redis.GetDatabase().CreateTransaction();
            transaction.AddCondition(Condition.KeyExists(key));
            _ = transaction.StringDecrementAsync(key, amount);
            await transaction.ExecuteAsync();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogFailure(exception);
        }
    }

    /// <summary>A <see cref="RateLimiter"/> over one key, for ASP.NET Core's rate limiting or direct use.</summary>
    public RateLimiter CreateLimiter(RedisKey key, FixedWindowLimit limit) => new Limiter(this, key, limit);

    private void LogFailure(Exception? exception)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastFailureLoggedAt);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= s_logInterval)
            && Interlocked.CompareExchange(ref _lastFailureLoggedAt, now, last) == last)
        {
            LogRedisUnavailable(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit counters are unavailable (Redis); requests are let through until it answers")]
    private partial void LogRedisUnavailable(Exception? exception);

    /// <summary>
    /// One partition's limiter. Asynchronous only: <see cref="AttemptAcquireCore"/> cannot ask Redis
    /// and answers "not acquired" without metadata, which makes ASP.NET Core's middleware go on to
    /// <see cref="AcquireAsyncCore"/>.
    /// </summary>
    private sealed class Limiter(RedisFixedWindow counters, RedisKey key, FixedWindowLimit limit) : RateLimiter
    {
        private int _active;
        private long _idleSince = Stopwatch.GetTimestamp();

        public override TimeSpan? IdleDuration => Volatile.Read(ref _active) > 0 ? null : Stopwatch.GetElapsedTime(Volatile.Read(ref _idleSince));

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            if (permitCount == 0)
            {
                return Lease.Granted;
            }

            Interlocked.Increment(ref _active);
            try
            {
                var count = await counters.IncrementAsync(key, limit.Window, permitCount, cancellationToken);
                return count is not { } window || window.Count <= limit.PermitLimit ? Lease.Granted : Lease.Refused(window.ResetsIn);
            }
            finally
            {
                Volatile.Write(ref _idleSince, Stopwatch.GetTimestamp());
                Interlocked.Decrement(ref _active);
            }
        }
    }

    private sealed class Lease(bool isAcquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease Pending = new(false, null);

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool IsAcquired => isAcquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } value && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = value;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
