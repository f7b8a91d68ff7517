using Microsoft.Extensions.Logging;
using Yac.Client;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

/// <summary>A test user signed in through Yac.Client, with the tokens its client holds (for tests that act on that device session from outside).</summary>
public sealed class SignedInClient(YacClient client, TestUser user) : IDisposable
{
    private YacTokens? _tokens;

    public YacClient Client { get; } = client;

    public TestUser User { get; } = user;

    /// <summary>The client's latest tokens (set by its sign-ins and refreshes).</summary>
    public YacTokens Tokens => Volatile.Read(ref _tokens) ?? throw new InvalidOperationException("Not signed in yet.");

    internal void OnTokensChanged(YacTokens tokens) => Volatile.Write(ref _tokens, tokens);

    public void Dispose() => Client.Dispose();
}

public static class ClientTestKit
{
    /// <summary>The gateway's public address (the proxy in front of every replica).</summary>
    public static Uri GatewayUrl(this YacAppFixture fixture)
    {
        using var gateway = fixture.CreateClient("gateway");
        return gateway.BaseAddress!;
    }

    /// <summary>Registers a user through the test helpers and signs them in with Yac.Client (a device session of its own).</summary>
    public static async Task<SignedInClient> SignInClientAsync(
        this YacAppFixture fixture, string prefix, CancellationToken cancellationToken, ILoggerFactory? loggerFactory = null)
    {
        var user = await fixture.RegisterAndLoginAsync(prefix, cancellationToken: cancellationToken);
        SignedInClient? signedIn = null;
        var client = new YacClient(new YacClientOptions
        {
            BaseAddress = fixture.GatewayUrl(),
            Credentials = new YacCredentials(user.Username, user.Password, "Yac.Client test"),
            TokensChanged = tokens => signedIn!.OnTokensChanged(tokens),
            RequestTimeout = TimeSpan.FromSeconds(30),
            LoggerFactory = loggerFactory,
        });
        signedIn = new SignedInClient(client, user);
        await client.SignInAsync(cancellationToken);
        return signedIn;
    }
}
