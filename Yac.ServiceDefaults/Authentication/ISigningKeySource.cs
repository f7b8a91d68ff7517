using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Finds the public key that verifies an access token, by its <c>kid</c>. Every service uses
/// <see cref="JwksSigningKeySource"/> (Identity's JWKS over HTTP); Identity itself replaces it with
/// its own key ring so it never calls itself.
/// </summary>
public interface ISigningKeySource
{
    /// <summary>The key with this id, or <see langword="null"/> if the issuer publishes none.</summary>
    ValueTask<SecurityKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken);
}
