namespace Yac.Identity.Tokens;

/// <summary>
/// One refresh token of a device session, stored only as the SHA-256 of its value (the value has
/// 256 random bits, so a fast hash is enough and lets the token be found by it). Spent on first use:
/// <see cref="UsedAt"/> set, a new one issued.
/// </summary>
public sealed class RefreshToken
{
    public Guid Id { get; init; }

    public Guid DeviceSessionId { get; init; }

    public required byte[] TokenHash { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? UsedAt { get; set; }
}
