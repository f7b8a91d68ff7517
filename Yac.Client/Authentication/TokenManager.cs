namespace Yac.Client;

/// <summary>
/// The built-in <see cref="IYacTokenProvider"/>: signs in with the credentials once, then renews
/// with the refresh token (each refresh spends it and keeps the new one). One renewal at a time:
/// callers that race for a fresh token share one refresh. A refused refresh (logout elsewhere,
/// reuse, expiry) is final: the client does not sign in again behind the user's back.
/// </summary>
internal sealed class TokenManager(
    YacHttp http, YacCredentials? credentials, string? refreshToken, Action<YacTokens>? tokensChanged, TimeSpan renewalMargin, TimeProvider time)
    : IYacTokenProvider, IDisposable
{
    private readonly SemaphoreSlim _renewal = new(1, 1);
    private string? _refreshToken = refreshToken;
    private YacAccessToken? _current;
    private bool _refused;

    public YacTokens? Tokens { get; private set; }

    public async ValueTask<YacAccessToken> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is not null && !IsDue(current))
        {
            return current;
        }

        return await RenewAsync(current, signIn: false, cancellationToken);
    }

    public ValueTask<YacAccessToken> RenewAccessTokenAsync(YacAccessToken rejected, CancellationToken cancellationToken) =>
        new(RenewAsync(rejected, signIn: false, cancellationToken));

    /// <summary>Signs in with the credentials now (a new device session).</summary>
    public async Task<YacTokens> SignInAsync(CancellationToken cancellationToken)
    {
        await RenewAsync(_current, signIn: true, cancellationToken);
        return Tokens!;
    }

    /// <summary>After logout: nothing more is renewed.</summary>
    public void Forget()
    {
        _refused = true;
        _current = null;
        _refreshToken = null;
    }

    private bool IsDue(YacAccessToken token) => time.GetUtcNow() >= token.RenewalDue(renewalMargin, token.IssuedAt ?? time.GetUtcNow());

    private async Task<YacAccessToken> RenewAsync(YacAccessToken? stale, bool signIn, CancellationToken cancellationToken)
    {
        await _renewal.WaitAsync(cancellationToken);
        try
        {
            // Another caller renewed while this one waited.
            if (!signIn && _current is { } current && current != stale && !IsDue(current))
            {
                return current;
            }

            // Expiry counts from before the request: the server's clock started while the answer travelled.
            var requestedAt = time.GetUtcNow();
            YacTokens tokens;
            if (!signIn && _refreshToken is { } refresh)
            {
                try
                {
                    tokens = await http.SendAsync(
                        HttpMethod.Post, "api/tokens/refresh", YacHttp.Body(new RefreshBody(refresh), YacJson.Wire.RefreshBody),
                        accessToken: null, YacJson.Wire.YacTokens, cancellationToken);
                }
                catch (YacUnauthorizedException)
                {
                    Forget();
                    throw;
                }
            }
            else if (credentials is not null && (signIn || (!_refused && _current is null && Tokens is null)))
            {
                tokens = await http.SendAsync(
                    HttpMethod.Post, "api/tokens",
                    YacHttp.Body(new LoginBody(credentials.Username, credentials.Password, credentials.DeviceName), YacJson.Wire.LoginBody),
                    accessToken: null, YacJson.Wire.YacTokens, cancellationToken);
                _refused = false;
            }
            else
            {
                throw new YacUnauthorizedException("Not signed in", _refused
                    ? "The device session has ended (logout or a refused refresh): sign in again."
                    : "No credentials, refresh token or token provider was given.");
            }

            Tokens = tokens;
            _refreshToken = tokens.RefreshToken;
            _current = new YacAccessToken(tokens.AccessToken, requestedAt + TimeSpan.FromSeconds(tokens.ExpiresIn), requestedAt);
            tokensChanged?.Invoke(tokens);
            return _current;
        }
        finally
        {
            _renewal.Release();
        }
    }

    public void Dispose() => _renewal.Dispose();
}
