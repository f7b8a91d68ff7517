using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>The one implementation of access-token validation, shared by JwtBearer and direct callers.</summary>
internal sealed partial class AccessTokenValidator(
    ISigningKeySource signingKeys,
    IDeviceRevocationList revocations,
    IOptionsMonitor<YacAuthenticationOptions> options,
    ILogger<AccessTokenValidator> logger) : IAccessTokenValidator
{
    // An ES256/RS256 token with YAC's claims is well under 2 KB; anything far larger is not ours.
    private const int MaxTokenLength = 8 * 1024;

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

        // Last: only a token that is otherwise valid costs a revocation lookup.
        if (await revocations.IsRevokedAsync(deviceId, cancellationToken))
        {
            return AccessTokenValidationResult.Failure("device session revoked");
        }

        return AccessTokenValidationResult.Success(
            new ClaimsPrincipal(validation.ClaimsIdentity), userId, deviceId, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), jwt);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Access token refused: {Reason}")]
    private partial void LogRefused(string reason);
}
