namespace Yac.Identity.SigningKeys;

/// <summary>
/// An access-token signing key. The private key is stored only as Data Protection ciphertext; the
/// public half is stored as a JWK, ready to publish.
/// </summary>
public sealed class SigningKey
{
    /// <summary>The <c>kid</c>: the RFC 7638 thumbprint of the public key.</summary>
    public required string Id { get; init; }

    public required string Algorithm { get; init; }

    public required string PublicJwk { get; init; }

    /// <summary>The PKCS#8 private key, protected with Data Protection (purpose <c>Yac.Identity.SigningKeys</c>).</summary>
    public required string ProtectedPrivateKey { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
