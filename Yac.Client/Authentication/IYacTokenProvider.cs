namespace Yac.Client;

/// <summary>An access token and when it expires.</summary>
/// <param name="Value">The JWT.</param>
/// <param name="ExpiresAt">When the server stops accepting it (err early: count from before the request that got it).</param>
/// <param name="IssuedAt">When it was obtained, if known: renewal is due at most half its lifetime before it expires.</param>
public sealed record YacAccessToken(string Value, DateTimeOffset ExpiresAt, DateTimeOffset? IssuedAt = null)
{
    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"YacAccessToken {{ ExpiresAt = {ExpiresAt:O} }}";

    /// <summary>When to renew it: <paramref name="margin"/> before it expires, but at most half its lifetime (known from <see cref="IssuedAt"/>, else from <paramref name="seenAt"/>).</summary>
    internal DateTimeOffset RenewalDue(TimeSpan margin, DateTimeOffset seenAt)
    {
        var lifetime = ExpiresAt - (IssuedAt ?? seenAt);
        return ExpiresAt - (margin < lifetime / 2 ? margin : lifetime / 2);
    }
}

/// <summary>
/// Where <see cref="YacClient"/> gets its access tokens. The built-in provider (used when
/// <see cref="YacClientOptions.Credentials"/> or <see cref="YacClientOptions.RefreshToken"/> is set)
/// signs in once and refreshes with the refresh token; supply your own to keep tokens elsewhere
/// (a platform keychain, another process).
/// </summary>
public interface IYacTokenProvider
{
    /// <summary>
    /// A token that is good for a while yet: the client calls this before every request and
    /// connect, and again shortly before the token expires to swap it on a live socket.
    /// </summary>
    ValueTask<YacAccessToken> GetAccessTokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The server refused <paramref name="rejected"/> (401, or close 4002): return a new token, or
    /// throw <see cref="YacUnauthorizedException"/> when the device session is over.
    /// </summary>
    ValueTask<YacAccessToken> RenewAccessTokenAsync(YacAccessToken rejected, CancellationToken cancellationToken);
}
