namespace Yac.Tests.Infrastructure;

/// <summary>
/// Every HttpClient a test makes: bounded to <see cref="Timeout"/> instead of HttpClient's 100 s
/// default, so a service that stops answering fails one call quickly instead of making every later
/// test wait out the default.
/// </summary>
public static class TestHttp
{
    /// <summary>Long enough for a slow 2-core machine under load; short enough to fail fast.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A client on <paramref name="baseAddress"/> (fresh connections: each client opens its own).</summary>
    public static HttpClient Create(Uri baseAddress, HttpMessageHandler? handler = null) =>
        new(handler ?? new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = baseAddress, Timeout = Timeout };
}
