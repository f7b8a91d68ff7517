using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Yac.ServiceDefaults.Authentication;

/// <summary>
/// Identity's public keys, fetched from its JWKS (through service discovery) and cached. The cache
/// is refreshed after <see cref="YacAuthenticationOptions.JwksRefreshInterval"/>, and at once when a
/// token names a <c>kid</c> it does not hold (a rotated key), but never more often than
/// <see cref="YacAuthenticationOptions.JwksMinimumRefreshInterval"/>. When Identity cannot be reached
/// the keys already known stay in use.
/// </summary>
public sealed partial class JwksSigningKeySource(
    IHttpClientFactory httpClientFactory,
    IOptionsMonitor<YacAuthenticationOptions> options,
    TimeProvider timeProvider,
    ILogger<JwksSigningKeySource> logger) : ISigningKeySource, IDisposable
{
    /// <summary>The named HttpClient that fetches the JWKS (service discovery and resilience apply).</summary>
    public const string HttpClientName = "yac-jwks";

    /// <summary>One fetch's budget: a call waiting for keys while Identity is down waits this long at most.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1.5);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(3);

    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private volatile KeySet? _keys;
    private DateTimeOffset _lastFetchAttempt = DateTimeOffset.MinValue;

    public async ValueTask<SecurityKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (keys is not null
            && timeProvider.GetUtcNow() - keys.FetchedAt < options.CurrentValue.JwksRefreshInterval
            && keys.ByKeyId.TryGetValue(keyId, out var key))
        {
            return key;
        }

        keys = await RefreshAsync(keys, cancellationToken);
        return keys?.ByKeyId.GetValueOrDefault(keyId);
    }

    public void Dispose() => _refreshLock.Dispose();

    private async Task<KeySet?> RefreshAsync(KeySet? seen, CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            if (!ReferenceEquals(_keys, seen))
            {
                // Another caller fetched while this one waited.
                return _keys;
            }

            var settings = options.CurrentValue;
            var now = timeProvider.GetUtcNow();
            if (now - _lastFetchAttempt < settings.JwksMinimumRefreshInterval)
            {
                return _keys;
            }

            _lastFetchAttempt = now;
            try
            {
                // Not the caller's token: one aborted request must not waste the fetch for everyone.
                using var client = httpClientFactory.CreateClient(HttpClientName);
                var json = await client.GetStringAsync(settings.JwksUri, CancellationToken.None);
                var keySet = new JsonWebKeySet(json);
                var byKeyId = keySet.Keys
                    .Where(key => !string.IsNullOrEmpty(key.Kid))
                    .ToDictionary(key => key.Kid, key => (SecurityKey)key, StringComparer.Ordinal);
                _keys = new KeySet(byKeyId, now);
                LogFetched(byKeyId.Count, settings.JwksUri);
            }
            catch (Exception exception) when (exception is HttpRequestException or JsonException or ArgumentException
                or OperationCanceledException or Polly.ExecutionRejectedException)
            {
                LogFetchFailed(exception, settings.JwksUri);
            }

            return _keys;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private sealed record KeySet(IReadOnlyDictionary<string, SecurityKey> ByKeyId, DateTimeOffset FetchedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Count} signing key(s) from {JwksUri}")]
    private partial void LogFetched(int count, Uri jwksUri);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fetching signing keys from {JwksUri} failed; the keys already known stay in use")]
    private partial void LogFetchFailed(Exception exception, Uri jwksUri);
}
