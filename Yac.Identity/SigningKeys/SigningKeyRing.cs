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
/// replicas. Every key that may still have signed an unexpired token is published in the JWKS, so a
/// rotation never invalidates a token in flight. Private keys are stored as Data Protection
/// ciphertext (its key ring lives in identitydb too, see docs/api.md). Identity validates its own
/// tokens with this ring (it is Identity's <see cref="ISigningKeySource"/>).
/// </summary>
/// <remarks>
/// Several replicas share identitydb:
/// <list type="bullet">
/// <item>a key is made only under a PostgreSQL advisory lock (transaction-scoped, so it also holds
/// behind PgBouncer in transaction mode), and whoever takes the lock second finds the first one's
/// key: a fresh database gets one key, whichever replicas start together;</item>
/// <item>each replica rereads the keys every <see cref="ReloadInterval"/>, so its JWKS and its own
/// validation know every key within seconds of its creation;</item>
/// <item>a rotated-in key is published <see cref="PublicationLead"/> before it signs (the previous
/// key signs meanwhile), so every replica and every validator's JWKS has it before its first token.
/// Only the very first key signs at once: there is no other.</item>
/// </list>
/// </remarks>
public sealed partial class SigningKeyRing(
    IServiceScopeFactory scopeFactory,
    IDataProtectionProvider dataProtection,
    IOptionsMonitor<IdentityServiceOptions> options,
    TimeProvider timeProvider,
    ILogger<SigningKeyRing> logger) : ISigningKeySource, IDisposable
{
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    /// <summary>How soon a replica sees a key that another one made, without being asked for an unknown kid.</summary>
    public static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a new key is published before it signs: beyond <see cref="ReloadInterval"/>, the
    /// JWKS's HTTP cache lifetime (<see cref="JwksApi.CacheMaxAge"/>) and a validator's refetch delay.
    /// </summary>
    public static readonly TimeSpan PublicationLead = TimeSpan.FromMinutes(2);

    // Advisory lock key of signing-key creation (any bigint unique within identitydb: "YACSIGNK").
    private const long CreationLockKey = 0x5941_4353_4947_4E4B;

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

    private bool IsStale(Snapshot snapshot) => timeProvider.GetUtcNow() - snapshot.LoadedAt > ReloadInterval;

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

            var keys = await ReadPublishedKeysAsync(db, now, settings, cancellationToken);
            if (IsRotationDue(keys, now, settings))
            {
                keys = await CreateKeyUnderLockAsync(db, now, settings, cancellationToken);
            }

            var signing = ChooseSigningKey(keys, now);
            var published = keys.Select(key => JsonSerializer.Deserialize(key.PublicJwk, SigningKeysJsonContext.Default.PublicJsonWebKey)!).ToList();
            var snapshot = new Snapshot(
                // The same key keeps its loaded credentials: only a new one is decrypted.
                Current: _snapshot?.Current.Key.KeyId == signing.Id ? _snapshot.Current : new SigningCredentials(LoadPrivateKey(signing), Algorithm),
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

    /// <summary>Every key that may still have signed an unexpired token, newest first.</summary>
    private static Task<List<SigningKey>> ReadPublishedKeysAsync(
        IdentityDbContext db, DateTimeOffset now, IdentityServiceOptions settings, CancellationToken cancellationToken)
    {
        var publishedSince = now - settings.SigningKeyRotationInterval - PublicationLead - settings.AccessTokenLifetime - TimeSpan.FromHours(1);
        return db.SigningKeys.AsNoTracking()
            .Where(key => key.CreatedAt >= publishedSince)
            .OrderByDescending(key => key.CreatedAt)
            .ToListAsync(cancellationToken);
    }

    /// <summary>No key yet, or the newest one is older than the rotation interval.</summary>
    private static bool IsRotationDue(List<SigningKey> keys, DateTimeOffset now, IdentityServiceOptions settings) =>
        keys.Count == 0 || now - keys[0].CreatedAt > settings.SigningKeyRotationInterval;

    /// <summary>The newest key published for at least <see cref="PublicationLead"/>; on a fresh database, the one there is.</summary>
    private static SigningKey ChooseSigningKey(List<SigningKey> keys, DateTimeOffset now) =>
        keys.FirstOrDefault(key => now - key.CreatedAt >= PublicationLead) ?? keys[^1];

    /// <summary>
    /// Makes a key if one is still due once this replica holds the creation lock; another replica
    /// that was due at the same moment made it first otherwise. Returns the keys as they then are.
    /// </summary>
    private async Task<List<SigningKey>> CreateKeyUnderLockAsync(
        IdentityDbContext db, DateTimeOffset now, IdentityServiceOptions settings, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        return await strategy.ExecuteAsync(async cancellation =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellation);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CreationLockKey})", cancellation);
            var keys = await ReadPublishedKeysAsync(db, now, settings, cancellation);
            SigningKey? created = null;
            if (IsRotationDue(keys, now, settings))
            {
                created = CreateKey(now);
                db.SigningKeys.Add(created);
                await db.SaveChangesAsync(cancellation);
                keys.Insert(0, created);
            }

            await transaction.CommitAsync(cancellation);
            if (created is not null)
            {
                LogKeyCreated(created.Id);
            }

            return keys;
        }, cancellationToken);
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
        IReadOnlyList<PublicJsonWebKey> Published,
        IReadOnlyDictionary<string, SecurityKey> VerificationKeys,
        DateTimeOffset LoadedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created signing key {KeyId}")]
    private partial void LogKeyCreated(string keyId);
}
