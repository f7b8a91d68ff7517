using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Yac.Identity.Tokens;

/// <summary>Refresh token values: 256 random bits, handed out once, stored only as their SHA-256.</summary>
public static class RefreshTokenValue
{
    // A real one is 43 characters; anything much longer is not worth hashing.
    private const int MaxLength = 256;

    public static (string Value, byte[] Hash) Create()
    {
        var value = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (value, Hash(value));
    }

    public static byte[]? TryHash(string value) => value.Length > MaxLength ? null : Hash(value);

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
