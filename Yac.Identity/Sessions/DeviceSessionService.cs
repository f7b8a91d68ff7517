using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Yac.Contracts;
using Yac.Identity.Infrastructure;
using Yac.Identity.Tokens;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Identity.Sessions;

/// <summary>
/// Device sessions: started by login, continued by refresh (rotating the refresh token on every
/// use), ended by logout or by reuse of a spent refresh token (token theft detection).
/// </summary>
public sealed partial class DeviceSessionService(
    IdentityDbContext db,
    AccessTokenIssuer accessTokens,
    IDeviceRevocationPublisher revocations,
    IOptionsMonitor<IdentityServiceOptions> options,
    IOptionsMonitor<YacAuthenticationOptions> authenticationOptions,
    TimeProvider timeProvider,
    ILogger<DeviceSessionService> logger)
{
    // Covers an access token signed just after a racing refresh committed (see RevokeAsync).
    private static readonly TimeSpan s_revocationMargin = TimeSpan.FromMinutes(1);

    /// <summary>A new device session for a user who just proved their password.</summary>
    public async Task<TokenResponse> StartAsync(Guid userId, string? deviceName, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var session = new DeviceSession { Id = Guid.CreateVersion7(), UserId = userId, DeviceName = deviceName, CreatedAt = now };
        var (refreshToken, refreshTokenEntity) = NewRefreshToken(session.Id, now);
        db.DeviceSessions.Add(session);
        db.RefreshTokens.Add(refreshTokenEntity);
        await db.SaveChangesAsync(cancellationToken);

        return await CreateResponseAsync(userId, session.Id, refreshToken, cancellationToken);
    }

    /// <summary>
    /// Spends a refresh token for a new pair. Null when the token is unknown, expired, of a revoked
    /// session, or already spent; in the last case the whole device session is revoked first.
    /// </summary>
    public async Task<TokenResponse?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var hash = RefreshTokenValue.TryHash(refreshToken);
        if (hash is null)
        {
            return null;
        }

        var now = timeProvider.GetUtcNow();
        var strategy = db.Database.CreateExecutionStrategy();
        var outcome = await strategy.ExecuteAsync(async cancellation =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            var spent = await db.RefreshTokens.AsNoTracking().FirstOrDefaultAsync(token => token.TokenHash == hash, cancellation);
            if (spent is null || spent.ExpiresAt <= now)
            {
                return RefreshOutcome.Invalid;
            }

            var session = await db.DeviceSessions.AsNoTracking().FirstAsync(session => session.Id == spent.DeviceSessionId, cancellation);
            if (session.RevokedAt is not null)
            {
                return RefreshOutcome.Invalid;
            }

            // Exactly one spender wins: a concurrent one waits for this row and then finds it used.
            var marked = await db.RefreshTokens
                .Where(token => token.Id == spent.Id && token.UsedAt == null)
                .ExecuteUpdateAsync(token => token.SetProperty(value => value.UsedAt, now), cancellation);
            if (marked == 0)
            {
                await transaction.RollbackAsync(cancellation);
                return RefreshOutcome.Reused(session);
            }

            var (value, entity) = NewRefreshToken(session.Id, now);
            db.RefreshTokens.Add(entity);
            await db.SaveChangesAsync(cancellation);
            await transaction.CommitAsync(cancellation);
            return RefreshOutcome.Rotated(session, value);
        }, cancellationToken);

        switch (outcome.Kind)
        {
            case RefreshOutcomeKind.Rotated:
                return await CreateResponseAsync(outcome.Session!.UserId, outcome.Session.Id, outcome.NewRefreshToken!, cancellationToken);
            case RefreshOutcomeKind.Reused:
                LogRefreshTokenReused(outcome.Session!.Id, outcome.Session.UserId);
                await RevokeAsync(outcome.Session.UserId, outcome.Session.Id, RevocationReasons.RefreshTokenReuse, cancellationToken);
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// Revokes a device session everywhere: its refresh tokens die (the session row), and its access
    /// tokens are refused by every service (the Redis record and message) before this returns.
    /// Idempotent, so a caller whose first attempt failed half-way can retry.
    /// </summary>
    public async Task RevokeAsync(Guid userId, Guid deviceId, string reason, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await db.DeviceSessions
            .Where(session => session.Id == deviceId && session.RevokedAt == null)
            .ExecuteUpdateAsync(
                session => session.SetProperty(value => value.RevokedAt, now).SetProperty(value => value.RevokedReason, reason),
                cancellationToken);

        // Until when a token of this device may still pass every other check: the longest lifetime,
        // the validators' clock skew, and a margin for a token signed right after a racing refresh.
        var expiresAt = now + options.CurrentValue.AccessTokenLifetime + authenticationOptions.CurrentValue.ClockSkew + s_revocationMargin;
        await revocations.PublishAsync(new DeviceRevokedEvent(userId, deviceId, now) { ExpiresAt = expiresAt }, cancellationToken);
        LogRevoked(deviceId, userId, reason);
    }

    private (string Value, RefreshToken Entity) NewRefreshToken(Guid sessionId, DateTimeOffset now)
    {
        var (value, hash) = RefreshTokenValue.Create();
        return (value, new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            DeviceSessionId = sessionId,
            TokenHash = hash,
            CreatedAt = now,
            ExpiresAt = now + options.CurrentValue.RefreshTokenLifetime,
        });
    }

    private async Task<TokenResponse> CreateResponseAsync(Guid userId, Guid deviceId, string refreshToken, CancellationToken cancellationToken)
    {
        var (accessToken, lifetime) = await accessTokens.IssueAsync(userId, deviceId, cancellationToken);
        return new TokenResponse(accessToken, "Bearer", (int)lifetime.TotalSeconds, refreshToken, userId, deviceId);
    }

    private enum RefreshOutcomeKind
    {
        Invalid,
        Rotated,
        Reused,
    }

    private sealed record RefreshOutcome(RefreshOutcomeKind Kind, DeviceSession? Session, string? NewRefreshToken)
    {
        public static readonly RefreshOutcome Invalid = new(RefreshOutcomeKind.Invalid, null, null);

        public static RefreshOutcome Rotated(DeviceSession session, string newRefreshToken) => new(RefreshOutcomeKind.Rotated, session, newRefreshToken);

        public static RefreshOutcome Reused(DeviceSession session) => new(RefreshOutcomeKind.Reused, session, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A spent refresh token of device {DeviceId} (user {UserId}) was presented again; revoking the device session")]
    private partial void LogRefreshTokenReused(Guid deviceId, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked device {DeviceId} of user {UserId} ({Reason})")]
    private partial void LogRevoked(Guid deviceId, Guid userId, string reason);
}
