using System.ComponentModel.DataAnnotations;

namespace Yac.Identity;

/// <summary>Identity's own settings, bound from the <c>Identity</c> configuration section.</summary>
public sealed class IdentityServiceOptions
{
    public const string SectionName = "Identity";

    /// <summary>Lifetime of an access token (the contract's default: 15 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a refresh token; each refresh issues a new one with a fresh lifetime.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A new signing key is made when the newest one is older than this.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan SigningKeyRotationInterval { get; set; } = TimeSpan.FromDays(30);

    /// <summary>PBKDF2 (HMAC-SHA512) iterations of ASP.NET Core's PasswordHasher; the contract asks for at least 100,000.</summary>
    [Range(100_000, 10_000_000)]
    public int PasswordHashIterations { get; set; } = 100_000;
}
