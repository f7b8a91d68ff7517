using System.Net;
using System.Net.Http.Headers;
using Xunit.Abstractions;
using Yac.Client;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

[Collection(YacAppCollection.Name)]
public sealed class ClientSessionTests(YacAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task LogoutOfTheSessionsDeviceElsewhereEndsItAsRevokedWithoutReconnecting()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var alice = await fixture.SignInClientAsync("alice", timeout.Token, new TestOutputLoggerFactory(output, "alice"));
        await using var events = new ClientEventLog(await alice.Client.ConnectAsync(cancellationToken: timeout.Token));

        // Another program holding this device session's token signs it out.
        using (var elsewhere = fixture.CreateClient("gateway"))
        {
            elsewhere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice.Tokens.AccessToken);
            using var logout = await elsewhere.PostAsync(new Uri("/api/logout", UriKind.Relative), content: null, timeout.Token);
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        }

        Assert.Equal(YacSessionEndReason.Revoked, await events.Session.Completion.WaitAsync(TimeSpan.FromSeconds(30), timeout.Token));
        await events.WaitUntilAsync(all => all.Count > 0 && all[^1] is YacSessionEndedEvent, TimeSpan.FromSeconds(10), "the end", timeout.Token);
        Assert.Equal(new YacSessionEndedEvent(YacSessionEndReason.Revoked), events.Snapshot()[^1]);

        // It stays over: no new socket, and sending says why.
        await Task.Delay(TimeSpan.FromSeconds(2), timeout.Token);
        Assert.Equal(1, events.Session.Connections);
        Assert.False(events.Session.IsConnected);
        var refused = await Assert.ThrowsAsync<YacSessionEndedException>(() => events.Session.SendAsync(Guid.NewGuid(), "after logout", timeout.Token));
        Assert.Equal(YacSessionEndReason.Revoked, refused.Reason);
        await Assert.ThrowsAsync<YacUnauthorizedException>(() => alice.Client.GetMeAsync(timeout.Token));
    }

    [Fact]
    public async Task RestErrorsArriveAsTypedProblemDetails()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var alice = await fixture.SignInClientAsync("alice", timeout.Token);

        var missing = await Assert.ThrowsAsync<YacNotFoundException>(() => alice.Client.GetChatAsync(Guid.NewGuid(), timeout.Token));
        Assert.Equal("Chat not found.", missing.Detail);
        var invalid = await Assert.ThrowsAsync<YacValidationException>(
            () => alice.Client.CreateChatAsync(YacCreateChat.Direct(Guid.NewGuid()), timeout.Token));
        Assert.Contains("memberIds", invalid.Errors.Keys);
        await Assert.ThrowsAsync<YacConflictException>(() => alice.Client.RegisterAsync(alice.User.Username, "another password", cancellationToken: timeout.Token));
        Assert.Null(await alice.Client.FindUserAsync(TestUsers.UniqueUsername("nobody"), timeout.Token));

        using var stranger = new YacClient(new YacClientOptions
        {
            BaseAddress = fixture.GatewayUrl(),
            Credentials = new YacCredentials(alice.User.Username, "not the password"),
        });
        await Assert.ThrowsAsync<YacUnauthorizedException>(() => stranger.SignInAsync(timeout.Token));
    }
}
