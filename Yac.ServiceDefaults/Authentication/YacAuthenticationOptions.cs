namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// How every YAC service validates access tokens. Bound from the <c>Yac:Authentication</c>
/// configuration section; the defaults are the contract's values, so a service needs no
/// configuration at all.
/// </summary>
public sealed class YacAuthenticationOptions
{
    public const string SectionName = "Yac:Authentication";

    /// <summary>The <c>iss</c> every access token carries (the contract fixes <c>yac-identity</c>).</summary>
    public string Issuer { get; set; } = YacTokenDefaults.Issuer;

    /// <summary>The <c>aud</c> every access token carries (the contract fixes <c>yac</c>).</summary>
    public string Audience { get; set; } = YacTokenDefaults.Audience;

    /// <summary>
    /// Where Identity publishes its public signing keys. The host name is resolved by service
    /// discovery (<c>services:identity:http:0</c>, which Aspire's <c>WithReference(identity)</c> sets).
    /// </summary>
    public Uri JwksUri { get; set; } = new("http://identity/.well-known/jwks.json");

    /// <summary>How long fetched keys are used before they are fetched again.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The shortest time between two JWKS fetches, whatever tokens arrive: a flood of tokens with
    /// made-up <c>kid</c>s must not turn into a flood of requests to Identity.
    /// </summary>
    public TimeSpan JwksMinimumRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Tolerated clock difference between Identity and the validating service.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many verified tokens to remember (a few KB each), so that a client presenting the same
    /// token on every request costs one signature check per token, not per request. 0 turns it off:
    /// the gateway does, as it checks a token once per socket and would only hold memory per socket.
    /// </summary>
    public int VerifiedTokenCacheSize { get; set; } = 20_000;
}

/// <summary>The names and values that tie Identity's tokens to every validating service.</summary>
public static class YacTokenDefaults
{
    public const string Issuer = "yac-identity";
    public const string Audience = "yac";

    /// <summary>The JWT <c>typ</c> of access tokens (RFC 9068), so no other JWT passes as one.</summary>
    public const string AccessTokenType = "at+jwt";

    /// <summary>The authentication scheme every service registers (JwtBearer's default name).</summary>
    public const string AuthenticationScheme = "Bearer";
}

/// <summary>Claim names of YAC access tokens, as they appear in the token (inbound claims are not mapped).</summary>
public static class YacClaimTypes
{
    /// <summary>The user id.</summary>
    public const string Subject = "sub";

    /// <summary>The device id: one device session per login.</summary>
    public const string DeviceId = "did";

    /// <summary>The token id.</summary>
    public const string TokenId = "jti";
}
