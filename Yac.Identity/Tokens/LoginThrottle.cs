using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Yac.Identity.Tokens;

/// <summary>Limits on failed logins, bound from <c>Identity:LoginThrottle</c>.</summary>
public sealed class LoginThrottleOptions
{
    public const string SectionName = "Identity:LoginThrottle";

    /// <summary>Failed logins for one username within <see cref="Window"/> before further attempts get 429.</summary>
    public int FailuresPerUsername { get; set; } = 5;

    /// <summary>Failed logins from one client address within <see cref="Window"/> (any usernames) before 429.</summary>
    public int FailuresPerAddress { get; set; } = 50;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Counts failed logins per username and per client address (fixed windows) and refuses further
/// attempts once either is used up, until the window ends. Only failures count, so a user who
/// logs in on many devices is never throttled, while guessing one account's password or trying
/// many accounts from one address is. Both the unknown-user and wrong-password cases count.
/// </summary>
public sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _byUsername;
    private readonly PartitionedRateLimiter<IPAddress> _byAddress;

    public LoginThrottle(IOptions<LoginThrottleOptions> options)
    {
        var settings = options.Value;
        _byUsername = PartitionedRateLimiter.Create<string, string>(
            username => RateLimitPartition.GetFixedWindowLimiter(username, _ => WindowOf(settings.FailuresPerUsername, settings.Window)));
        _byAddress = PartitionedRateLimiter.Create<IPAddress, IPAddress>(
            address => RateLimitPartition.GetFixedWindowLimiter(address, _ => WindowOf(settings.FailuresPerAddress, settings.Window)));
    }

    /// <summary>How long to wait before trying again, or null if an attempt may go ahead.</summary>
    public TimeSpan? GetRetryAfter(string username, IPAddress? address)
    {
        // Asking for zero permits tells whether any are left, without using one.
        using var userLease = _byUsername.AttemptAcquire(username, 0);
        if (!userLease.IsAcquired)
        {
            return RetryAfterOf(userLease);
        }

        if (address is not null)
        {
            using var addressLease = _byAddress.AttemptAcquire(address, 0);
            if (!addressLease.IsAcquired)
            {
                return RetryAfterOf(addressLease);
            }
        }

        return null;
    }

    public void RecordFailure(string username, IPAddress? address)
    {
        _byUsername.AttemptAcquire(username).Dispose();
        if (address is not null)
        {
            _byAddress.AttemptAcquire(address).Dispose();
        }
    }

    public void Dispose()
    {
        _byUsername.Dispose();
        _byAddress.Dispose();
    }

    private static FixedWindowRateLimiterOptions WindowOf(int permits, TimeSpan window) => new()
    {
        PermitLimit = permits,
        Window = window,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private static TimeSpan RetryAfterOf(RateLimitLease lease)
        => lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
}
