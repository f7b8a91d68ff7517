using System.Net;
using System.Net.WebSockets;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayFrameTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence"];

    [Fact]
    public async Task BadFramesGetTheContractsAnswersAndTheSocketStaysOpen()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var mallory = await fixture.RegisterAndLoginAsync("mallory", cancellationToken: timeout.Token);
        var alicesChat = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, mallory.AccessToken, timeout.Token);

        await socket.SendTextAsync("this is not JSON", timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);

        await socket.SendAsync(new { type = "teleport", chatId = alicesChat }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);

        await socket.SendAsync(new { type = "send", chatId = alicesChat, clientMsgId = "no-text" }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: "no-text", timeout.Token);

        await socket.SendAsync(new { type = "read", chatId = "not-a-guid", seq = 1 }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);

        await socket.SendRawAsync([1, 2, 3], WebSocketMessageType.Binary, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);

        await socket.SendAsync(new { type = "send", chatId = alicesChat, clientMsgId = "intruder", text = "let me in" }, timeout.Token);
        await AssertErrorAsync(socket, "not_found", reference: "intruder", timeout.Token);

        await socket.SendAsync(new { type = "typing", chatId = alicesChat }, timeout.Token);
        await AssertErrorAsync(socket, "forbidden", reference: alicesChat.ToString(), timeout.Token);

        await socket.SendAsync(new { type = "ping", id = 42 }, timeout.Token);
        var pong = await socket.NextSkippingAsync("pong", s_noise, timeout.Token);
        Assert.Equal(42, pong.GetProperty("id").GetInt32());
        Assert.False(socket.Closed.IsCompleted);
    }

    [Fact]
    public async Task FrameLargerThan16KiBClosesTheSocketWith1009()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        var text = new string('x', 17 * 1024);
        try
        {
            await socket.SendTextAsync($$"""{"type":"send","chatId":"{{chatId}}","clientMsgId":"big","text":"{{text}}"}""", timeout.Token);
        }
        catch (WebSocketException)
        {
            // The server may close while the frame is still being written.
        }

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await socket.WaitForCloseAsync(timeout.Token));
    }

    [Fact]
    public async Task RepeatedBadFramesCloseTheSocketWith1008()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        for (var i = 0; i < 100 && !socket.Closed.IsCompleted; i++)
        {
            try
            {
                await socket.SendTextAsync("{not json", timeout.Token);
            }
            catch (WebSocketException)
            {
                break;
            }
        }

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await socket.WaitForCloseAsync(timeout.Token));
    }

    [Fact]
    public async Task SendingFasterThanTheRateLimitGetsRateLimitedErrors()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        for (var i = 0; i < 300; i++)
        {
            await socket.SendAsync(new { type = "typing", chatId }, timeout.Token);
        }

        var frames = await socket.FramesUntilPongAsync(timeout.Token);
        Assert.Contains(frames, frame => frame.Type() == "error" && frame.GetProperty("code").GetString() == "rate_limited");
        Assert.False(socket.Closed.IsCompleted);
    }

    [Fact]
    public async Task UpgradeWithoutAValidTokenIs401AndTokenInQueryIsAccepted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(first, token: null, origin: null, timeout.Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(first, token: alice.AccessToken + "x", origin: null, timeout.Token));

        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token, tokenInQuery: true);
        Assert.Equal(alice.Id, socket.Hello.GetProperty("userId").GetGuid());
    }

    [Fact]
    public async Task CrossSiteOriginIsRefusedButOwnAndMissingOriginsAreAllowed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);

        Assert.Equal(HttpStatusCode.Forbidden, await GatewayScenario.RefusedStatusAsync(first, alice.AccessToken, "https://evil.example", timeout.Token));

        await using var sameOrigin = await TestWebSocket.ConnectAsync(
            first, alice.AccessToken, timeout.Token, origin: first.GetLeftPart(UriPartial.Authority));
        await using var noOrigin = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        Assert.Equal("hello", sameOrigin.Hello.Type());
        Assert.Equal("hello", noOrigin.Hello.Type());
    }

    [Fact]
    public async Task AuthFrameSwapsTheTokenOnlyForTheSameUserAndDevice()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var aliceOtherDevice = await fixture.LoginAgainAsync(alice, "tablet", timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        await socket.SendAsync(new { type = "auth", accessToken = bob.AccessToken }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);
        await socket.SendAsync(new { type = "auth", accessToken = aliceOtherDevice.AccessToken }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);
        await socket.SendAsync(new { type = "auth", accessToken = "garbage" }, timeout.Token);
        await AssertErrorAsync(socket, "bad_request", reference: null, timeout.Token);

        // A valid token of the same user and device (a client swaps in the one it refreshed).
        await socket.SendAsync(new { type = "auth", accessToken = alice.AccessToken }, timeout.Token);
        var authOk = await socket.NextSkippingAsync("authOk", s_noise, timeout.Token);
        Assert.InRange(authOk.GetProperty("expiresIn").GetInt64(), 1, 24 * 3600);

        // The socket still works on its new token.
        await socket.SendAsync(new { type = "send", chatId, clientMsgId = "after-swap", text = "still me" }, timeout.Token);
        var ack = await socket.NextSkippingAsync("ack", ["message", .. s_noise], timeout.Token);
        Assert.Equal("after-swap", ack.GetProperty("clientMsgId").GetString());
    }

    private static async Task AssertErrorAsync(TestWebSocket socket, string code, string? reference, CancellationToken cancellationToken)
    {
        var error = await socket.NextSkippingAsync("error", s_noise, cancellationToken);
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (reference is null)
        {
            Assert.False(error.TryGetProperty("ref", out _), error.GetRawText());
        }
        else
        {
            Assert.Equal(reference, error.GetProperty("ref").GetString());
        }
    }
}
