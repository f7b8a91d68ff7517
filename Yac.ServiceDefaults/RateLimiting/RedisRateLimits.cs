using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Yac.ServiceDefaults.Authentication;

namespace Yac.ServiceDefaults.RateLimiting;

/// <summary>Who a policy's budget belongs to.</summary>
public enum RateLimitScope
{
    /// <summary>The authenticated user (<c>sub</c>): all their devices, sockets and replicas together.</summary>
    User,

    /// <summary>The client's address (<see cref="ClientAddresses.PartitionOf"/>), for anonymous endpoints.</summary>
    ClientAddress,
}

/// <summary>A named limit and whose budget it is.</summary>
public sealed record RateLimitPolicy(string Name, RateLimitScope Scope, FixedWindowLimit Default);

/// <summary>
/// The service's limits, bound from <c>Yac:RateLimits:{policy}</c> (<c>PermitLimit</c>,
/// <c>Window</c>) over the defaults the service declares.
/// </summary>
public sealed class RateLimitSettings : Dictionary<string, FixedWindowLimit>
{
    public const string SectionName = "Yac:RateLimits";

    public RateLimitSettings()
        : base(StringComparer.OrdinalIgnoreCase)
    {
    }
}

/// <summary>
/// Per-user (or per-address) limits held in Redis (<see cref="RedisFixedWindow"/>), so that every
/// replica of a service, and every service that names the same policy, spends one budget. Used by
/// ASP.NET Core's rate limiting middleware (<c>RequireRateLimiting(policy)</c>) and directly by
/// code that acts for many users in one request (<see cref="AcquireAsync"/>).
/// </summary>
public sealed class RedisRateLimits(RedisFixedWindow counters, IOptions<RateLimitSettings> settings)
{
    /// <summary>The partition of a user's budget (the same for the middleware and for <see cref="TakeAsync"/>).</summary>
    public static string UserPartition(Guid userId) => userId.ToString("N");

    /// <summary>The limit of <paramref name="policy"/>.</summary>
    public FixedWindowLimit LimitOf(string policy)
        => settings.Value.TryGetValue(policy, out var limit)
            ? limit
            : throw new InvalidOperationException($"No rate limit policy '{policy}' is declared.");

    /// <summary>Takes one permit of <paramref name="policy"/> for <paramref name="partition"/>; the lease says whether it was granted.</summary>
    public async ValueTask<RateLimitLease> AcquireAsync(string policy, string partition, CancellationToken cancellationToken = default)
    {
        using var limiter = CreateLimiter(policy, partition);
        return await limiter.AcquireAsync(1, cancellationToken);
    }

    /// <summary>
    /// Takes up to <paramref name="permits"/> permits of <paramref name="policy"/> for
    /// <paramref name="partition"/> in one round trip (one user's sends of a batch): how many were
    /// granted (the first ones; all of them while Redis is unreachable) and, when some were not, how
    /// long until the window ends.
    /// </summary>
    public async Task<(int Granted, TimeSpan? RetryAfter)> TakeAsync(string policy, string partition, int permits, CancellationToken cancellationToken = default)
    {
        if (permits <= 0)
        {
            return (0, null);
        }

        var limit = LimitOf(policy);
        var window = await counters.IncrementAsync(KeyOf(policy, partition), limit.Window, permits, cancellationToken);
        if (window is not { } count)
        {
            return (permits, null);
        }

        var before = count.Count - permits;
        var granted = (int)Math.Clamp(limit.PermitLimit - before, 0, permits);
        return (granted, granted < permits ? count.ResetsIn : null);
    }

    public RateLimiter CreateLimiter(string policy, string partition)
        => counters.CreateLimiter(KeyOf(policy, partition), LimitOf(policy));

    private static string KeyOf(string policy, string partition) => $"{RedisFixedWindow.KeyPrefix}{policy}:{partition}";

    /// <summary>Whole seconds for a <c>Retry-After</c> header (at least 1).</summary>
    public static string RetryAfterSeconds(TimeSpan retryAfter)
        => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

public static class RedisRateLimitsExtensions
{
    /// <summary>
    /// Registers <paramref name="policies"/> with ASP.NET Core's rate limiting: a request over its
    /// policy's budget is 429 problem details with <c>Retry-After</c> (seconds). Needs an
    /// <c>IConnectionMultiplexer</c> (AddRedisClient) and <c>app.UseRateLimiter()</c> after
    /// authentication.
    /// </summary>
    public static TBuilder AddRedisRateLimits<TBuilder>(this TBuilder builder, params RateLimitPolicy[] policies)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RedisFixedWindow>();
        services.TryAddSingleton<RedisRateLimits>();
        services.AddOptions<RateLimitSettings>()
            .Configure(settings =>
            {
                foreach (var policy in policies)
                {
                    settings[policy.Name] = FixedWindowLimit.Of(policy.Default.PermitLimit, policy.Default.Window);
                }
            })
            .BindConfiguration(RateLimitSettings.SectionName)
            .Validate(settings => settings.Values.All(limit => limit.PermitLimit > 0 && limit.Window > TimeSpan.Zero),
                "Every rate limit needs a PermitLimit above 0 and a Window above 0.")
            .ValidateOnStart();

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = WriteRejectionAsync;
            foreach (var policy in policies)
            {
                options.AddPolicy(policy.Name, context =>
                {
                    var partition = PartitionOf(context, policy.Scope);
                    var limits = context.RequestServices.GetRequiredService<RedisRateLimits>();
                    return RateLimitPartition.Get(partition, key => limits.CreateLimiter(policy.Name, key));
                });
            }
        });
        return builder;
    }

    private static string PartitionOf(HttpContext context, RateLimitScope scope) => scope switch
    {
        // Endpoints under a per-user policy require authorization, which runs first; an anonymous
        // request that still gets here shares the address budget instead.
        RateLimitScope.User when context.User.TryGetUserId(out var userId) => RedisRateLimits.UserPartition(userId),
        _ => "addr:" + ClientAddresses.PartitionOf(context.Connection.RemoteIpAddress),
    };

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = RedisRateLimits.RetryAfterSeconds(retryAfter);
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = "This budget is used up for now; retry after the time in Retry-After (seconds).",
            },
        });
    }
}
