using System.Net;
using StackExchange.Redis;
using Microsoft.Extensions.Options;
using Yac.ServiceDefaults.RateLimiting;

namespace Yac.Identity.Tokens;

/// <summary>Limits on failed logins, bound from <c>Identity:LoginThrottle</c>.</summary>
public sealed class LoginThrottleOptions
{
    public const string SectionName = "Identity:LoginThrottle";

    /// <summary>Failed logins for one username within <see cref="Window"/> before further attempts get 429.</summary>
    public int FailuresPerUsername { get; set; } = 5;

    /// <summary>Failed logins from one client address within <see cref="Window"/> (any usernames) before that address is locked.</summary>
    public int FailuresPerAddress { get; set; } = 50;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The login throttle, in Redis (<see cref="RedisFixedWindow"/>) so that every Identity replica and
/// a restart see the same counts. An attempt takes its permits <em>before</em> the password is
/// checked: one of the username's window and one of the client address's. A correct password gives
/// them back (successes never count); a wrong one keeps them, so they count as failures. Concurrent
/// attempts therefore cannot overrun the budget: of 60 at once for one account, 5 are checked and
/// 55 answered 429 at once.
/// <para>
/// An address that used up its budget (credential spraying, or a NAT shared with one) is locked for
/// accounts that failed in the window, but not for an account without failures: the attempt goes on
/// only if it holds the username's first permit. So a user behind a locked NAT address who types the
/// right password still logs in, and a sprayer from that address gets at most one guess per account
/// and window (which then counts against the account).
/// </para>
/// Unknown usernames count like known ones, so the answers do not tell whether an account exists.
/// </summary>
public sealed class LoginThrottle(RedisFixedWindow counters, IOptions<LoginThrottleOptions> options)
{
    /// <summary>Takes the attempt's permits, or says how long to wait.</summary>
    public async Task<LoginPermit> BeginAsync(string username, IPAddress? address)
    {
        var settings = options.Value;
        RedisKey userKey = $"{RedisFixedWindow.KeyPrefix}login:user:{username}";
        RedisKey addressKey = $"{RedisFixedWindow.KeyPrefix}login:addr:{ClientAddresses.PartitionOf(address)}";

        var user = await counters.IncrementAsync(userKey, settings.Window);
        if (user is { } userWindow && userWindow.Count > settings.FailuresPerUsername)
        {
            await counters.DecrementAsync(userKey);
            return LoginPermit.Refused(userWindow.ResetsIn);
        }

        var fromAddress = await counters.IncrementAsync(addressKey, settings.Window);
        if (fromAddress is { } addressWindow && addressWindow.Count > settings.FailuresPerAddress && user is not { Count: 1 })
        {
            await Task.WhenAll(counters.DecrementAsync(userKey), counters.DecrementAsync(addressKey));
            return LoginPermit.Refused(addressWindow.ResetsIn);
        }

        return new LoginPermit(null, userKey, addressKey);
    }

    /// <summary>The password was right: the attempt's permits go back (successful logins never count).</summary>
    public Task SucceededAsync(LoginPermit permit)
        => permit.RetryAfter is null
            ? Task.WhenAll(counters.DecrementAsync(permit.UserKey), counters.DecrementAsync(permit.AddressKey))
            : Task.CompletedTask;
}

/// <summary>An attempt's permits, or (<see cref="RetryAfter"/> set) a refusal. A wrong password simply keeps them.</summary>
public sealed record LoginPermit(TimeSpan? RetryAfter, RedisKey UserKey, RedisKey AddressKey)
{
    public static LoginPermit Refused(TimeSpan retryAfter) => new(retryAfter, default, default);
}
