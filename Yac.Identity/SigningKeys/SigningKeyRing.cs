using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Yac.Identity.Infrastructure;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Identity.SigningKeys;

/// <summary>
/// Identity's ES256 signing keys, kept in identitydb so that tokens stay valid across restarts and
/// replicas. The newest key signs; every key that may still have signed an unexpired token is
/// published in the JWKS, so a rotation never invalidates a token in flight. Private keys are stored
/// as Data Protection ciphertext (its key ring lives in identitydb too, see docs/api.md).
/// Identity validates its own tokens with this ring (it is Identity's <see cref="ISigningKeySource"/>).
/// </summary>
public sealed partial class SigningKeyRing(
    IServiceScopeFactory scopeFactory,
    IDataProtectionProvider dataProtection,
    IOptionsMonitor<IdentityServiceOptions> options,
    TimeProvider timeProvider,
    ILogger<SigningKeyRing> logger) : ISigningKeySource, IDisposable
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    // Other replicas may rotate; this is how soon this one notices without being asked for an unknown kid.
    private static readonly TimeSpan s_reloadInterval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_minimumReloadInterval = TimeSpan.FromSeconds(5);

    private readonly IDataProtector _protector = dataProtection.CreateProtector("Yac.Identity.SigningKeys");
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private volatile Snapshot? _snapshot;
    private DateTimeOffset _lastLoad = DateTimeOffset.MinValue;

    /// <summary>The credentials of the newest key, making a new key first if it is due.</summary>
    public async ValueTask<SigningCredentials> GetSigningCredentialsAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || IsStale(snapshot))
        {
            snapshot = await LoadAsync(snapshot, throttled: false, cancellationToken);
        }

        return snapshot.Current;
    }

    /// <summary>The public keys to publish in the JWKS.</summary>
    public async ValueTask<IReadOnlyList<PublicJsonWebKey>> GetPublishedKeysAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || IsStale(snapshot))
        {
            snapshot = await LoadAsync(snapshot, throttled: false, cancellationToken);
        }

        return snapshot.Published;
    }

    public async ValueTask<SecurityKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot ?? await LoadAsync(null, throttled: false, cancellationToken);
        if (snapshot.VerificationKeys.TryGetValue(keyId, out var key))
        {
            return key;
        }

        // Another replica may have made a key since this one loaded.
        snapshot = await LoadAsync(snapshot, throttled: true, cancellationToken);
        return snapshot.VerificationKeys.GetValueOrDefault(keyId);
    }

    public void Dispose() => _loadLock.Dispose();

    private bool IsStale(Snapshot snapshot)
    {
        var now = timeProvider.GetUtcNow();
        return now - snapshot.LoadedAt > s_reloadInterval
            || now - snapshot.CurrentCreatedAt > options.CurrentValue.SigningKeyRotationInterval;
    }

    private async Task<Snapshot> LoadAsync(Snapshot? seen, bool throttled, CancellationToken cancellationToken)
    {
        await _loadLock.WaitAsync(cancellationToken);
        try
        {
            var now = timeProvider.GetUtcNow();
            if (_snapshot is not null && (!ReferenceEquals(_snapshot, seen) || (throttled && now - _lastLoad < s_minimumReloadInterval)))
            {
                return _snapshot;
            }

            _lastLoad = now;
            var settings = options.CurrentValue;
            await using var scope = scopeFactory.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();

            // A key stays published while a token it signed may still be valid.
            var publishedSince = now - settings.SigningKeyRotationInterval - settings.AccessTokenLifetime - TimeSpan.FromHours(1);
            var keys = await db.SigningKeys.AsNoTracking()
                .Where(key => key.CreatedAt >= publishedSince)
                .OrderByDescending(key => key.CreatedAt)
                .ToListAsync(cancellationToken);

            if (keys.Count == 0 || now - keys[0].CreatedAt > settings.SigningKeyRotationInterval)
            {
                var created = CreateKey(now);
                db.SigningKeys.Add(created);
                await db.SaveChangesAsync(cancellationToken);
                keys.Insert(0, created);
                LogKeyCreated(created.Id);
            }

            var published = keys.Select(key => JsonSerializer.Deserialize(key.PublicJwk, SigningKeysJsonContext.Default.PublicJsonWebKey)!).ToList();
            var snapshot = new Snapshot(
                Current: new SigningCredentials(LoadPrivateKey(keys[0]), Algorithm),
                CurrentCreatedAt: keys[0].CreatedAt,
                Published: published,
                VerificationKeys: keys.ToDictionary(key => key.Id, key => (SecurityKey)new JsonWebKey(key.PublicJwk), StringComparer.Ordinal),
                LoadedAt: now);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _loadLock.Release();
        }
    }

    private SigningKey CreateKey(DateTimeOffset now)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
        var jwk = new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.EllipticCurve,
            Crv = JsonWebKeyECTypes.P256,
            X = Base64UrlEncoder.Encode(parameters.Q.X),
            Y = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        var keyId = Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
        var publicJwk = new PublicJsonWebKey(jwk.Kty, jwk.Crv, jwk.X, jwk.Y, keyId, Algorithm, "sig");
        return new SigningKey
        {
            Id = keyId,
            Algorithm = Algorithm,
            PublicJwk = JsonSerializer.Serialize(publicJwk, SigningKeysJsonContext.Default.PublicJsonWebKey),
            ProtectedPrivateKey = Convert.ToBase64String(_protector.Protect(ecdsa.ExportPkcs8PrivateKey())),
            CreatedAt = now,
        };
    }

    private ECDsaSecurityKey LoadPrivateKey(SigningKey key)
    {
        var privateKey = _protector.Unprotect(Convert.FromBase64String(key.ProtectedPrivateKey));
        try
        {
            // Not disposed: the key signs for as long as it is the current one, on any thread.
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(privateKey, out _);
            return new ECDsaSecurityKey(ecdsa) { KeyId = key.Id };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    private sealed record Snapshot(
        SigningCredentials Current,
        DateTimeOffset CurrentCreatedAt,
        IReadOnlyList<PublicJsonWebKey> Published,
        IReadOnlyDictionary<string, SecurityKey> VerificationKeys,
        DateTimeOffset LoadedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created signing key {KeyId}")]
    private partial void LogKeyCreated(string keyId);
}
