using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Yac.Identity.SigningKeys;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Identity.Tokens;

/// <summary>Signs access tokens: ES256, <c>typ</c> at+jwt, <c>iss</c>, <c>aud</c>, <c>sub</c>, <c>did</c>, <c>jti</c>.</summary>
public sealed class AccessTokenIssuer(
    SigningKeyRing keyRing,
    IOptionsMonitor<IdentityServiceOptions> identityOptions,
    IOptionsMonitor<YacAuthenticationOptions> authenticationOptions,
    TimeProvider timeProvider)
{
    private readonly JsonWebTokenHandler _handler = new();

    public async Task<(string Token, TimeSpan Lifetime)> IssueAsync(Guid userId, Guid deviceId, CancellationToken cancellationToken)
    {
        var credentials = await keyRing.GetSigningCredentialsAsync(cancellationToken);
        var lifetime = identityOptions.CurrentValue.AccessTokenLifetime;
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = YacTokenDefaults.AccessTokenType,
            Issuer = authenticationOptions.CurrentValue.Issuer,
            Audience = authenticationOptions.CurrentValue.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>
            {
                [YacClaimTypes.Subject] = userId.ToString(),
                [YacClaimTypes.DeviceId] = deviceId.ToString(),
                [YacClaimTypes.TokenId] = Guid.NewGuid().ToString("N"),
            },
        });
        return (token, lifetime);
    }
}
