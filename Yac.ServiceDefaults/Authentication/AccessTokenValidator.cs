using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// The one implementation of access-token validation, shared by JwtBearer and direct callers.
/// <para>
/// A client presents the same token on every request for its whole lifetime, so a token whose
/// signature and claims were verified once is remembered (by its exact text) until it expires:
/// the ECDSA verification and claims parsing were a quarter of ChatService's CPU per sent message.
/// Lifetime, the signing key still being current, and revocation are checked on every use.
/// </para>
/// </summary>
internal sealed partial class AccessTokenValidator(
    ISigningKeySource signingKeys,
    IDeviceRevocationList revocations,
    IOptionsMonitor<YacAuthenticationOptions> options,
    TimeProvider timeProvider,
    ILogger<AccessTokenValidator> logger) : IAccessTokenValidator
{
    // An ES256/RS256 token with YAC's claims is well under 2 KB; anything far larger is not ours.
    private const int MaxTokenLength = 8 * 1024;

    private readonly ConcurrentDictionary<string, VerifiedToken> _verified = new(StringComparer.Ordinal);

    private static readonly string[] s_allowedAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256];
    private static readonly string[] s_allowedTypes = [YacTokenDefaults.AccessTokenType];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<AccessTokenValidationResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var result = await ValidateCoreAsync(token, cancellationToken);
        if (!result.IsValid)
        {
            LogRefused(result.Error!);
        }

        return result;
    }

    private async Task<AccessTokenValidationResult> ValidateCoreAsync(string token, CancellationToken cancellationToken)
    {
        if (token is not null && _verified.TryGetValue(token, out var verified))
        {
            return await RevalidateAsync(token, verified, cancellationToken);
        }

        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength || !_handler.CanReadToken(token))
        {
            return AccessTokenValidationResult.Failure("malformed token");
        }

        JsonWebToken jwt;
        try
        {
            jwt = _handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException exception)
        {
            return AccessTokenValidationResult.Failure("malformed token", exception);
        }

        // Checked before any key lookup so that unsigned tokens never trigger a JWKS fetch.
        if (!s_allowedAlgorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            return AccessTokenValidationResult.Failure("algorithm not allowed");
        }

        if (string.IsNullOrEmpty(jwt.Kid))
        {
            return AccessTokenValidationResult.Failure("no key id");
        }

        var key = await signingKeys.FindKeyAsync(jwt.Kid, cancellationToken);
        if (key is null)
        {
            return AccessTokenValidationResult.Failure("unknown signing key");
        }

        var validation = await _handler.ValidateTokenAsync(jwt, CreateParameters(options.CurrentValue, key));
        if (!validation.IsValid)
        {
            return AccessTokenValidationResult.Failure(validation.Exception?.GetType().Name ?? "invalid token", validation.Exception);
        }

        if (!TryGetGuid(validation.ClaimsIdentity, YacClaimTypes.Subject, out var userId)
            || !TryGetGuid(validation.ClaimsIdentity, YacClaimTypes.DeviceId, out var deviceId))
        {
            return AccessTokenValidationResult.Failure("missing sub or did claim");
        }

        var expiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        Remember(token, new VerifiedToken(validation.ClaimsIdentity, userId, deviceId, expiresAt, jwt, key));

        // Last: only a token that is otherwise valid costs a revocation lookup.
        if (await revocations.IsRevokedAsync(deviceId, cancellationToken))
        {
            return AccessTokenValidationResult.Failure("device session revoked");
        }

        return AccessTokenValidationResult.Success(
            new ClaimsPrincipal(validation.ClaimsIdentity.Clone()), userId, deviceId, expiresAt, jwt);
    }

    /// <summary>A token verified before: only what can change since is checked again.</summary>
    private async Task<AccessTokenValidationResult> RevalidateAsync(string token, VerifiedToken verified, CancellationToken cancellationToken)
    {
        if (timeProvider.GetUtcNow() > verified.ExpiresAt + options.CurrentValue.ClockSkew)
        {
            _verified.TryRemove(token, out _);
            // The same exception the handler throws, so JwtBearer answers with the same "expired" challenge.
            return AccessTokenValidationResult.Failure(
                nameof(SecurityTokenExpiredException),
                new SecurityTokenExpiredException($"The token expired at '{verified.ExpiresAt:O}'.") { Expires = verified.ExpiresAt.UtcDateTime });
        }

        // A rotated-out or refreshed key set sends the token through full validation again.
        var key = await signingKeys.FindKeyAsync(verified.Token.Kid, cancellationToken);
        if (!ReferenceEquals(key, verified.Key))
        {
            _verified.TryRemove(token, out _);
            return await ValidateCoreAsync(token, cancellationToken);
        }

        if (await revocations.IsRevokedAsync(verified.DeviceId, cancellationToken))
        {
            return AccessTokenValidationResult.Failure("device session revoked");
        }

        // Each caller gets its own identity: request code may add claims to it.
        return AccessTokenValidationResult.Success(
            new ClaimsPrincipal(verified.Identity.Clone()), verified.UserId, verified.DeviceId, verified.ExpiresAt, verified.Token);
    }

    /// <summary>Bounded by <see cref="YacAuthenticationOptions.VerifiedTokenCacheSize"/>: past it, expired entries go, then everything.</summary>
    private void Remember(string token, VerifiedToken verified)
    {
        var capacity = options.CurrentValue.VerifiedTokenCacheSize;
        if (capacity <= 0)
        {
            return;
        }

        if (_verified.Count >= capacity)
        {
            var now = timeProvider.GetUtcNow();
            foreach (var (cachedToken, cached) in _verified)
            {
                if (cached.ExpiresAt < now)
                {
                    _verified.TryRemove(cachedToken, out _);
                }
            }

            if (_verified.Count >= capacity)
            {
                _verified.Clear();
            }
        }

        _verified[token] = verified;
    }

    /// <summary>The parameters JwtBearer would use; <see cref="AccessTokenValidator"/> passes them the resolved key.</summary>
    internal static TokenValidationParameters CreateParameters(YacAuthenticationOptions settings, SecurityKey? key) => new()
    {
        ValidIssuer = settings.Issuer,
        ValidAudience = settings.Audience,
        ValidAlgorithms = s_allowedAlgorithms,
        ValidTypes = s_allowedTypes,
        IssuerSigningKey = key,
        TryAllIssuerSigningKeys = false,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = settings.ClockSkew,
        NameClaimType = YacClaimTypes.Subject,
        AuthenticationType = YacTokenDefaults.AuthenticationScheme,
    };

    private static bool TryGetGuid(ClaimsIdentity identity, string claimType, out Guid value)
        => Guid.TryParse(identity.FindFirst(claimType)?.Value, out value);

    private sealed record VerifiedToken(
        ClaimsIdentity Identity, Guid UserId, Guid DeviceId, DateTimeOffset ExpiresAt, JsonWebToken Token, SecurityKey Key);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Access token refused: {Reason}")]
    private partial void LogRefused(string reason);
}
