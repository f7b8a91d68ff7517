using System.Security.Claims;
using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Validates a YAC access token given as a raw string, exactly as JwtBearer does for every request
/// (it uses this same validator): signature by one of Identity's keys, <c>alg</c> ES256 or RS256,
/// <c>typ</c> <c>at+jwt</c>, issuer, audience, lifetime, the <c>sub</c> and <c>did</c> claims, and
/// that the device session is not revoked (<see cref="IDeviceRevocationList"/>).
/// Use it where a token arrives outside the HTTP pipeline, e.g. a WebSocket <c>auth</c> frame:
/// <code>
/// var result = await validator.ValidateAsync(frame.AccessToken, cancellationToken);
/// if (!result.IsValid || result.UserId != socketUserId || result.DeviceId != socketDeviceId) { /* bad_request */ }
/// </code>
/// </summary>
public interface IAccessTokenValidator
{
    /// <summary>Never throws for a bad token: the result says why it was refused.</summary>
    Task<AccessTokenValidationResult> ValidateAsync(string token, CancellationToken cancellationToken);
}

/// <summary>The outcome of <see cref="IAccessTokenValidator.ValidateAsync"/>.</summary>
public sealed record AccessTokenValidationResult
{
    public bool IsValid { get; private init; }

    /// <summary>The token's claims (not mapped), with <c>sub</c> as the name claim; null when invalid.</summary>
    public ClaimsPrincipal? Principal { get; private init; }

    public Guid UserId { get; private init; }

    public Guid DeviceId { get; private init; }

    /// <summary>The token's <c>exp</c>.</summary>
    public DateTimeOffset ExpiresAt { get; private init; }

    /// <summary>Why the token was refused (safe to log: it never contains the token); null when valid.</summary>
    public string? Error { get; private init; }

    /// <summary>The underlying validation exception, if any (JwtBearer reports it as the failure).</summary>
    public Exception? Exception { get; private init; }

    /// <summary>The parsed token, which JwtBearer hands on to its events.</summary>
    internal SecurityToken? SecurityToken { get; private init; }

    internal static AccessTokenValidationResult Success(
        ClaimsPrincipal principal, Guid userId, Guid deviceId, DateTimeOffset expiresAt, SecurityToken securityToken)
        => new()
        {
            IsValid = true,
            Principal = principal,
            UserId = userId,
            DeviceId = deviceId,
            ExpiresAt = expiresAt,
            SecurityToken = securityToken,
        };

    internal static AccessTokenValidationResult Failure(string error, Exception? exception = null)
        => new() { Error = error, Exception = exception };
}
