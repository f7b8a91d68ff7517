using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yac.ServiceDefaults.Authentication;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The authentication every YAC service shares (eShop's <c>AddDefaultAuthentication</c> is the model).
/// </summary>
public static class AuthenticationExtensions
{
    /// <summary>
    /// Authenticates requests with YAC access tokens (<c>Authorization: Bearer</c>): JwtBearer whose
    /// only token handler is <see cref="IAccessTokenValidator"/>, checking the signature against
    /// Identity's JWKS (fetched through service discovery from <c>http://identity</c>, cached,
    /// refreshed on an unknown <c>kid</c>; never a shared secret), <c>iss</c>, <c>aud</c>, lifetime,
    /// <c>alg</c>, the <c>sub</c>/<c>did</c> claims, and that the device session is not revoked
    /// (<see cref="IDeviceRevocationList"/>, fed by Identity through Redis: the service must also call
    /// <c>builder.AddRedisClient("redis")</c>). Claims are not mapped: read them with
    /// <see cref="ClaimsPrincipalExtensions.GetUserId"/> and <see cref="ClaimsPrincipalExtensions.GetDeviceId"/>.
    /// Also registers authorization; protect endpoints with <c>RequireAuthorization()</c>.
    /// <para>Usage, in a service's <c>AddApplicationServices</c> (the AppHost must give it <c>WithReference(identity)</c>):</para>
    /// <code>builder.AddDefaultAuthentication();</code>
    /// <para>and in <c>Program.cs</c>, after <c>UseDefaultProblemDetails()</c> so that 401/403 answers get a
    /// problem-details body (ASP.NET Core would otherwise add the middleware before it):</para>
    /// <code>
    /// app.UseDefaultProblemDetails();
    /// app.UseAuthentication();
    /// app.UseAuthorization();
    /// </code>
    /// <para>
    /// Configuration (optional) lives in <c>Yac:Authentication</c>, see <see cref="YacAuthenticationOptions"/>.
    /// Outside the HTTP pipeline (a WebSocket frame carrying a token), resolve <see cref="IAccessTokenValidator"/>.
    /// To take the token from elsewhere (e.g. <c>?access_token=</c> on <c>/ws</c>), configure
    /// <c>JwtBearerOptions.Events.OnMessageReceived</c> as usual; validation stays the same.
    /// </para>
    /// </summary>
    public static TBuilder AddDefaultAuthentication<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddAccessTokenValidation();
        var services = builder.Services;
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();
        services.AddAuthorization();
        return builder;
    }

    /// <summary>
    /// Only <see cref="IAccessTokenValidator"/> (with its signing keys and the revocation list), no
    /// authentication scheme: for a service that checks tokens itself, as the gateway does once per
    /// WebSocket. Without a scheme, ASP.NET Core adds no authentication middleware, so a socket's
    /// request does not also keep a second, JwtBearer-made principal for its whole life.
    /// </summary>
    public static TBuilder AddAccessTokenValidation<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<YacAuthenticationOptions>()
            .BindConfiguration(YacAuthenticationOptions.SectionName);

        services.TryAddSingleton(TimeProvider.System);
        // A short budget instead of the defaults' 30 s: a token with a key this service has not
        // fetched yet, while Identity is down, is answered within seconds (the keys it holds stay in use).
        services.AddHttpClient(JwksSigningKeySource.HttpClientName)
            .WithShortResilience(JwksSigningKeySource.AttemptTimeout, JwksSigningKeySource.TotalTimeout);
        // Identity replaces this with its own key ring.
        services.TryAddSingleton<ISigningKeySource, JwksSigningKeySource>();
        services.TryAddSingleton<IAccessTokenValidator, AccessTokenValidator>();

        services.AddSingleton<RedisDeviceRevocationList>();
        services.AddSingleton<IDeviceRevocationList>(provider => provider.GetRequiredService<RedisDeviceRevocationList>());
        services.AddSingleton<IDeviceRevocationPublisher>(provider => provider.GetRequiredService<RedisDeviceRevocationList>());
        services.AddHostedService(provider => provider.GetRequiredService<RedisDeviceRevocationList>());
        return builder;
    }

    private sealed class ConfigureJwtBearer(IAccessTokenValidator validator, IOptions<YacAuthenticationOptions> settings)
        : IConfigureNamedOptions<JwtBearerOptions>
    {
        public void Configure(string? name, JwtBearerOptions options)
        {
            if (name != JwtBearerDefaults.AuthenticationScheme)
            {
                return;
            }

            options.MapInboundClaims = false;
            // No Authority, no metadata: keys come from ISigningKeySource, validation from IAccessTokenValidator.
            options.TokenValidationParameters = AccessTokenValidator.CreateParameters(settings.Value, key: null);
            options.TokenHandlers.Clear();
            options.TokenHandlers.Add(new AccessTokenHandler(validator));
        }

        public void Configure(JwtBearerOptions options) => Configure(Microsoft.Extensions.Options.Options.DefaultName, options);
    }
}
