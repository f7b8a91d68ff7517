using Microsoft.Extensions.Logging;

namespace Yac.Client;

/// <summary>Where YAC is and how to sign in: set <see cref="BaseAddress"/> and one of <see cref="Credentials"/>, <see cref="RefreshToken"/> or <see cref="TokenProvider"/>.</summary>
public sealed class YacClientOptions
{
    /// <summary>The gateway, e.g. <c>http://localhost:5080</c> (REST at <c>/api</c>, the socket at <c>/ws</c>).</summary>
    public required Uri BaseAddress { get; set; }

    /// <summary>Sign in with a username and password (on the first call that needs a token, or <see cref="YacClient.SignInAsync"/>).</summary>
    public YacCredentials? Credentials { get; set; }

    /// <summary>Continue a device session from a refresh token kept from an earlier run (see <see cref="TokensChanged"/>).</summary>
    public string? RefreshToken { get; set; }

    /// <summary>Your own source of access tokens instead of the built-in sign-in and refresh.</summary>
    public IYacTokenProvider? TokenProvider { get; set; }

    /// <summary>
    /// Called with the new tokens after every sign-in and refresh (the built-in provider): keep
    /// <see cref="YacTokens.RefreshToken"/> somewhere safe to continue the device session later.
    /// </summary>
    public Action<YacTokens>? TokensChanged { get; set; }

    /// <summary>Tokens are renewed (and swapped on a live socket) this long before they expire, at most half their lifetime (default 60 s).</summary>
    public TimeSpan TokenRenewalMargin { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one REST call may take (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Logs (never tokens, passwords or message text).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock (tests use a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
