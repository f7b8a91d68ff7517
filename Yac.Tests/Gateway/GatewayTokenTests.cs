using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// Sockets and the lifetime of their access tokens, in the app whose tokens live 10 s (no clock
/// skew): the expiry close (4002) and the <c>auth</c> swap. Where a test waits for a token's
/// <c>exp</c>, it waits for time itself to pass, not for another part of the system.
/// </summary>
[Collection(ShortLivedTokensAppCollection.Name)]
public sealed class GatewayTokenTests(ShortLivedTokensAppFixture fixture)
{
    private const WebSocketCloseStatus TokenExpired = (WebSocketCloseStatus)4002;

    // The gateway's timer and the test's clock read the same system clock; this covers timer granularity.
    private static readonly TimeSpan s_clockTolerance = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_closeTimeout = ShortLivedTokensAppFixture.AccessTokenLifetime * 4;
    private static readonly string[] s_noise = ["presence", "memberJoined"];

    [Fact]
    public async Task SocketIsClosedWith4002WhenItsAccessTokenExpiresOnEitherReplica()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var expiresAt = ExpiryOf(alice.AccessToken);

        await using var onFirst = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        await using var onSecond = await TestWebSocket.ConnectAsync(second, alice.AccessToken, timeout.Token);
        Assert.NotEqual(onFirst.GatewayId, onSecond.GatewayId);
        // Both answer while the token is valid (a socket closed early would fail here).
        await onFirst.FramesUntilPongAsync(timeout.Token);
        await onSecond.FramesUntilPongAsync(timeout.Token);

        var closes = await Task.WhenAll(ClosedAtAsync(onFirst, timeout.Token), ClosedAtAsync(onSecond, timeout.Token));

        foreach (var (status, closedAt) in closes)
        {
            Assert.Equal(TokenExpired, status);
            Assert.True(closedAt >= expiresAt - s_clockTolerance, $"closed at {closedAt:O}, the token expires at {expiresAt:O}");
        }

        // The expired token opens no new socket either, on any replica.
        Assert.Equal(HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(first, alice.AccessToken, origin: null, timeout.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(second, alice.AccessToken, origin: null, timeout.Token));
    }

    [Fact]
    public async Task AuthWithARefreshedTokenKeepsTheSocketOpenAndDeliveringPastTheFirstTokensExpiry()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);

        var firstTokens = await fixture.RefreshAsync(alice.RefreshToken, timeout.Token);
        var firstExpiry = ExpiryOf(firstTokens.AccessToken);
        await using var socket = await TestWebSocket.ConnectAsync(first, firstTokens.AccessToken, timeout.Token);

        // Late in the first token's life, as a client would, so the new token outlives it by seconds.
        await WaitUntilAsync(firstExpiry - TimeSpan.FromSeconds(3.5), timeout.Token);
        var refreshes = await Task.WhenAll(
            fixture.RefreshAsync(firstTokens.RefreshToken, timeout.Token), fixture.RefreshAsync(bob.RefreshToken, timeout.Token));
        var (secondTokens, bobTokens) = (refreshes[0], refreshes[1]);
        var secondExpiry = ExpiryOf(secondTokens.AccessToken);
        Assert.Equal(alice.DeviceId, secondTokens.DeviceId);
        Assert.True(secondExpiry >= firstExpiry + TimeSpan.FromSeconds(2), $"the second token expires at {secondExpiry:O}");

        await socket.SendAsync(new { type = "auth", accessToken = secondTokens.AccessToken }, timeout.Token);
        var authOk = await socket.NextSkippingAsync("authOk", s_noise, timeout.Token);
        Assert.True(DateTime.UtcNow < firstExpiry, "the swap must happen before the first token expires; the machine was too slow");
        Assert.InRange(
            authOk.GetProperty("expiresIn").GetInt64(),
            (long)(secondExpiry - DateTime.UtcNow).TotalSeconds - 2,
            (long)ShortLivedTokensAppFixture.AccessTokenLifetime.TotalSeconds);

        await WaitUntilAsync(firstExpiry + TimeSpan.FromSeconds(0.5), timeout.Token);

        // Past the first token's expiry the socket is open, receives, and calls ChatService with the new token.
        await socket.FramesUntilPongAsync(timeout.Token);
        using (var bobHttp = fixture.CreateClient("chat", bobTokens.AccessToken))
        {
            await bobHttp.SendOverRestAsync(chatId, "still there?", timeout.Token);
        }

        var fromBob = await socket.NextSkippingAsync("message", s_noise, timeout.Token);
        Assert.Equal("still there?", fromBob.GetProperty("text").GetString());
        Assert.Equal(bob.Id, fromBob.GetProperty("senderId").GetGuid());

        await socket.SendAsync(new { type = "send", chatId, clientMsgId = "after-first-expiry", text = "yes" }, timeout.Token);
        var answer = await socket.NextWhereAsync(frame => frame.Type() is "ack" or "error", timeout.Token);
        Assert.True(answer.Type() == "ack", $"the send after the first token's expiry got {answer.GetRawText()}");
        Assert.True(DateTime.UtcNow < secondExpiry, "the checks must finish before the second token expires; the machine was too slow");

        // The swapped-in token's own expiry still closes the socket.
        var (status, closedAt) = await ClosedAtAsync(socket, timeout.Token);
        Assert.Equal(TokenExpired, status);
        Assert.True(closedAt >= secondExpiry - s_clockTolerance, $"closed at {closedAt:O}, the second token expires at {secondExpiry:O}");
    }

    [Fact]
    public async Task RefusedAuthFramesGetBadRequestAndTheSocketKeepsItsUserDeviceAndExpiry()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (_, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        var staleToken = alice.AccessToken;
        var staleExpiry = ExpiryOf(staleToken);

        // The socket's token outlives the login's by seconds, so the login's can be tried once expired.
        await WaitUntilAsync(staleExpiry - TimeSpan.FromSeconds(5), timeout.Token);
        var socketTokens = await fixture.RefreshAsync(alice.RefreshToken, timeout.Token);
        var socketExpiry = ExpiryOf(socketTokens.AccessToken);
        await using var socket = await TestWebSocket.ConnectAsync(second, socketTokens.AccessToken, timeout.Token);

        // Valid tokens issued seconds after the socket's: they would outlive it if the socket took one.
        await WaitUntilAsync(staleExpiry - TimeSpan.FromSeconds(2.5), timeout.Token);
        var bobLogin = fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var tabletLogin = fixture.LoginAgainAsync(alice, "tablet", timeout.Token);
        var (bob, aliceTablet) = (await bobLogin, await tabletLogin);

        await WaitUntilAsync(staleExpiry + TimeSpan.FromSeconds(0.3), timeout.Token);
        var refused = new (string What, string Token)[]
        {
            ("another user's token", bob.AccessToken),
            ("a token of the same user's other device", aliceTablet.AccessToken),
            ("the same device's expired token", staleToken),
            ("a token with a forged signature", socketTokens.AccessToken[..^4] + "AAAA"),
            ("not a token", "garbage"),
        };

        foreach (var (what, token) in refused)
        {
            await socket.SendAsync(new { type = "auth", accessToken = token }, timeout.Token);
            var answer = await socket.NextWhereAsync(frame => frame.Type() is "authOk" or "error", timeout.Token);
            Assert.True(answer.Type() == "error", $"auth with {what} got {answer.GetRawText()}");
            Assert.Equal("bad_request", answer.GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(answer.GetProperty("message").GetString()));
        }

        // Still Alice's laptop: her send is acked and delivered as hers.
        await socket.SendAsync(new { type = "send", chatId, clientMsgId = "still-alice", text = "who am I?" }, timeout.Token);
        // The ack and the message itself come in either order.
        var answers = new List<JsonElement>();
        while (!answers.Exists(frame => frame.Type() == "ack") || !answers.Exists(frame => frame.Type() == "message"))
        {
            var frame = await socket.NextWhereAsync(candidate => candidate.Type() is "ack" or "message" or "error", timeout.Token);
            answers.Add(frame);
            Assert.True(frame.Type() != "error", $"the send after the refused swaps got {frame.GetRawText()}");
        }

        var message = answers.Single(frame => frame.Type() == "message");
        Assert.True(DateTime.UtcNow < socketExpiry, "the checks must finish before the socket's token expires; the machine was too slow");
        Assert.Equal(alice.Id, message.GetProperty("senderId").GetGuid());
        Assert.Equal("who am I?", message.GetProperty("text").GetString());

        // And it ends when its own token expires, not when one of the refused ones would.
        var (status, closedAt) = await ClosedAtAsync(socket, timeout.Token);
        Assert.Equal(TokenExpired, status);
        Assert.True(closedAt >= socketExpiry - s_clockTolerance, $"closed at {closedAt:O}, its token expires at {socketExpiry:O}");
        var refusedExpiry = new[] { ExpiryOf(bob.AccessToken), ExpiryOf(aliceTablet.AccessToken) }.Min();
        Assert.True(closedAt < refusedExpiry, $"closed at {closedAt:O}, as if it held a refused token (expiring {refusedExpiry:O})");
    }

    private static DateTime ExpiryOf(string accessToken) => new JsonWebToken(accessToken).ValidTo;

    private static async Task WaitUntilAsync(DateTime momentUtc, CancellationToken cancellationToken)
    {
        var wait = momentUtc - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    private static async Task<(WebSocketCloseStatus? Status, DateTime ClosedAt)> ClosedAtAsync(TestWebSocket socket, CancellationToken cancellationToken)
    {
        var status = await socket.WaitForCloseAsync(cancellationToken, s_closeTimeout);
        return (status, DateTime.UtcNow);
    }
}
