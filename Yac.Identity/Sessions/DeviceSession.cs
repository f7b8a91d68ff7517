namespace Yac.Identity.Sessions;

/// <summary>
/// One login on one device: its id is the <c>did</c> claim of every access token issued to it.
/// Revoked by logout or by reuse of a spent refresh token; a revoked session never comes back.
/// </summary>
public sealed class DeviceSession
{
    public Guid Id { get; init; }

    public Guid UserId { get; init; }

    public string? DeviceName { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; set; }

    public string? RevokedReason { get; set; }
}

/// <summary>Why a device session was revoked.</summary>
public static class RevocationReasons
{
    public const string Logout = "logout";
    public const string RefreshTokenReuse = "refresh_token_reuse";
}
