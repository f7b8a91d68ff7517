using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Plugs <see cref="IAccessTokenValidator"/> into JwtBearer (as its only token handler), so that the
/// HTTP pipeline and direct callers validate with exactly the same rules.
/// </summary>
internal sealed class AccessTokenHandler(IAccessTokenValidator validator) : TokenHandler
{
    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        // JwtBearer passes no cancellation token here; the validator's own I/O is bounded by timeouts.
        var result = await validator.ValidateAsync(token, CancellationToken.None);
        if (!result.IsValid)
        {
            return new TokenValidationResult
            {
                IsValid = false,
                Exception = result.Exception ?? new SecurityTokenValidationException(result.Error),
            };
        }

        var identity = result.Principal!.Identities.First();
        return new TokenValidationResult
        {
            IsValid = true,
            ClaimsIdentity = identity,
            SecurityToken = result.SecurityToken,
            Issuer = identity.FindFirst("iss")?.Value,
        };
    }
}
