using Microsoft.Extensions.Options;
using Yac.Identity.Infrastructure;
using Yac.Identity.Tokens;

namespace Yac.Identity.Sessions;

/// <summary>Starts device sessions and hands out their tokens.</summary>
public sealed class DeviceSessionService(
    IdentityDbContext db,
    AccessTokenIssuer accessTokens,
    IOptionsMonitor<IdentityServiceOptions> options,
    TimeProvider timeProvider)
{
    /// <summary>A new device session for a user who just proved their password.</summary>
    public async Task<TokenResponse> StartAsync(Guid userId, string? deviceName, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var session = new DeviceSession { Id = Guid.CreateVersion7(), UserId = userId, DeviceName = deviceName, CreatedAt = now };
        var (refreshToken, refreshTokenHash) = RefreshTokenValue.Create();
        db.DeviceSessions.Add(session);
        db.RefreshTokens.Add(new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            DeviceSessionId = session.Id,
            TokenHash = refreshTokenHash,
            CreatedAt = now,
            ExpiresAt = now + options.CurrentValue.RefreshTokenLifetime,
        });
        await db.SaveChangesAsync(cancellationToken);

        return await CreateResponseAsync(userId, session.Id, refreshToken, cancellationToken);
    }

    private async Task<TokenResponse> CreateResponseAsync(Guid userId, Guid deviceId, string refreshToken, CancellationToken cancellationToken)
    {
        var (accessToken, lifetime) = await accessTokens.IssueAsync(userId, deviceId, cancellationToken);
        return new TokenResponse(accessToken, "Bearer", (int)lifetime.TotalSeconds, refreshToken, userId, deviceId);
    }
}
