using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yac.Contracts;
using Yac.Identity;
using Yac.Identity.Infrastructure;
using Yac.Identity.OpenApi;
using Yac.Identity.Sessions;
using Yac.Identity.SigningKeys;
using Yac.Identity.Tokens;
using Yac.Identity.Users;
using Yac.ServiceDefaults.Authentication;
using Yac.ServiceDefaults.RateLimiting;
using Yac.Shared;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.LimitRequestBodies(RequestBodyCaps.Identity);
        builder.AddNpgsqlDbContext<IdentityDbContext>("identitydb");
        services.AddDatabaseMigrator<IdentityDbContext>();
        builder.AddRedisClient("redis");

        services.AddOptions<IdentityServiceOptions>()
            .BindConfiguration(IdentityServiceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Encrypts the signing keys' private halves; its own key ring is kept in identitydb so that
        // every Identity replica and restart can decrypt them (see docs/api.md on key storage).
        services.AddDataProtection()
            .SetApplicationName("yac-identity")
            .PersistKeysToDbContext<IdentityDbContext>();

        services.AddOptions<PasswordHasherOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<IdentityServiceOptions>>((hasher, identity) =>
            {
                hasher.CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3;
                hasher.IterationCount = identity.Value.PasswordHashIterations;
            });
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddSingleton<PasswordService>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SigningKeyRing>();
        // Identity validates its own tokens with its key ring instead of fetching its own JWKS.
        services.AddSingleton<ISigningKeySource>(provider => provider.GetRequiredService<SigningKeyRing>());
        builder.AddDefaultAuthentication();

        services.AddSingleton<AccessTokenIssuer>();
        services.AddScoped<DeviceSessionService>();

        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.SectionName);
        services.AddSingleton<LoginThrottle>();
        // Each registration costs a slow hash: one address may register a few accounts, not thousands.
        builder.AddRedisRateLimits(new RateLimitPolicy(
            UsersApi.RegistrationPolicy, RateLimitScope.ClientAddress, FixedWindowLimit.Of(100, TimeSpan.FromMinutes(10))));
        // Behind the gateway the client's address arrives in X-Forwarded-For, trusted only from the
        // gateway: loopback by default (where the AppHost runs it); Yac:ForwardedHeaders:KnownNetworks
        // names the gateway's network when it runs elsewhere.
        builder.AddForwardedHeaders(ForwardedHeadersSetup.DefaultTrust.Loopback);

        services.AddOpenApi(openApi => openApi.AddDocumentTransformer<BearerSecuritySchemeTransformer>());
        return builder;
    }
}
