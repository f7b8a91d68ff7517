using Xunit.Abstractions;
using Yac.Client;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

/// <summary>Yac.Client against access tokens that live 10 s: the session renews and swaps them, the socket never expires.</summary>
[Collection(ShortLivedTokensAppCollection.Name)]
public sealed class ClientTokenTests(ShortLivedTokensAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task ASessionOutlivesItsAccessTokensBySwappingFreshOnesOnTheSameSocket()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var alice = await fixture.SignInClientAsync("alice", timeout.Token, new TestOutputLoggerFactory(output, "alice"));
        using var bob = await fixture.SignInClientAsync("bob", timeout.Token, new TestOutputLoggerFactory(output, "bob"));
        var chat = await alice.Client.CreateChatAsync(YacCreateChat.Direct(bob.User.Id), timeout.Token);
        await using var aliceEvents = new ClientEventLog(await alice.Client.ConnectAsync(cancellationToken: timeout.Token));
        await using var bobEvents = new ClientEventLog(await bob.Client.ConnectAsync(cancellationToken: timeout.Token));
        var firstToken = alice.Tokens.AccessToken;

        // Three and a half token lifetimes of conversation, one message a second from each side.
        var lifetimes = ShortLivedTokensAppFixture.AccessTokenLifetime * 3.5;
        var sent = 0;
        var started = DateTime.UtcNow;
        try
        {
            while (DateTime.UtcNow - started < lifetimes)
            {
                await Task.WhenAll(
                    aliceEvents.Session.SendAsync(chat.Id, $"alice {sent}", timeout.Token),
                    bobEvents.Session.SendAsync(chat.Id, $"bob {sent}", timeout.Token)).WaitAsync(TimeSpan.FromSeconds(30), timeout.Token);
                sent += 2;
                await Task.Delay(TimeSpan.FromSeconds(1), timeout.Token);
            }
        }
        catch (YacSessionEndedException)
        {
            // Why a session ended is in Identity's and the gateways' warnings (a refused refresh says why).
            foreach (var service in new[] { "identity", "gateway" })
            {
                foreach (var line in (await fixture.GetResourceLogsAsync(service, CancellationToken.None))
                    .Where(line => line.Contains("warn", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase)
                        || line.Contains("refresh", StringComparison.OrdinalIgnoreCase) || line.Contains("revok", StringComparison.OrdinalIgnoreCase)))
                {
                    output.WriteLine($"{service}: {line}");
                }
            }

            throw;
        }

        foreach (var events in new[] { aliceEvents, bobEvents })
        {
            await events.WaitUntilAsync(_ => events.Messages(chat.Id).Count >= sent, TimeSpan.FromSeconds(30), "every message", timeout.Token);
            Assert.Equal(Enumerable.Range(1, sent).Select(seq => (long)seq), events.Messages(chat.Id).Select(message => message.Seq));
            // Renewed on the live socket at least once per lifetime, and never closed for it (no 4002, no reconnect).
            Assert.True(events.Session.TokenSwaps >= 3, $"{events.Session.TokenSwaps} token swaps");
            Assert.Equal(1, events.Session.Connections);
        }

        Assert.NotEqual(firstToken, alice.Tokens.AccessToken);
        // REST goes on with the renewed tokens too.
        Assert.Equal(sent, (await alice.Client.GetChatsAsync(timeout.Token)).Single(summary => summary.Id == chat.Id).LastSeq);
    }
}
