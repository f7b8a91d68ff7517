using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Yac.Contracts;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayTokenPrivacyTests(YacAppFixture fixture)
{
    private const string LogBarrier = "Ignored a malformed revocation message";

    [Fact]
    public async Task TokensInTheQueryTheHeaderAndAuthFramesNeverAppearInAnyServicesLogs()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        var barriersBefore = await CountBarrierLinesAsync(timeout.Token);

        // A browser's socket (token in the query) and an app's (token in the header), on different replicas.
        await using var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token, tokenInQuery: true);
        await using var bobSocket = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);
        await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId = "private", text = "nobody logs my token" }, timeout.Token);
        await aliceSocket.NextWhereAsync(frame => frame.Type() == "ack", timeout.Token);
        await bobSocket.NextWhereAsync(frame => frame.Type() == "message", timeout.Token);

        // A refused token in the query, and tokens in auth frames (accepted and refused).
        var forged = alice.AccessToken[..^4] + "AAAA";
        Assert.Equal(HttpStatusCode.Unauthorized, await RefusedQueryTokenStatusAsync(second, forged, timeout.Token));
        var refreshed = await RefreshThroughGatewayAsync(bob, timeout.Token);
        await bobSocket.SendAsync(new { type = "auth", accessToken = refreshed.AccessToken }, timeout.Token);
        await bobSocket.NextWhereAsync(frame => frame.Type() == "authOk", timeout.Token);
        await bobSocket.SendAsync(new { type = "auth", accessToken = alice.AccessToken }, timeout.Token);
        await bobSocket.NextWhereAsync(frame => frame.Type() == "error", timeout.Token);
        await aliceSocket.CloseAsync(timeout.Token);
        await bobSocket.CloseAsync(timeout.Token);

        // Every service logs one line for a revocation message that is not JSON: once that line is in
        // a service's logs, so is everything the service logged before it.
        await fixture.PublishRawAsync(Channels.Revocations, ["not JSON: a log barrier"]);
        var secrets = new[] { alice.AccessToken, bob.AccessToken, refreshed.AccessToken, forged, bob.RefreshToken, refreshed.RefreshToken }
            .SelectMany(token => token.Split('.').Where(part => part.Length >= 16).Prepend(token))
            .Distinct()
            .ToList();
        foreach (var service in YacAppFixture.ServiceNames)
        {
            var instances = service == "gateway" ? YacAppFixture.DefaultGatewayReplicas : 1;
            var lines = await fixture.WaitForLogLinesAsync(
                service, line => line.Contains(LogBarrier, StringComparison.Ordinal), barriersBefore[service] + instances, timeout.Token);
            Assert.NotEmpty(lines);
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal));
            }
        }
    }

    private async Task<Dictionary<string, int>> CountBarrierLinesAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, int>();
        foreach (var service in YacAppFixture.ServiceNames)
        {
            var lines = await fixture.GetResourceLogsAsync(service, cancellationToken);
            counts[service] = lines.Count(line => line.Contains(LogBarrier, StringComparison.Ordinal));
        }

        return counts;
    }

    private async Task<TokenResponse> RefreshThroughGatewayAsync(TestUser user, CancellationToken cancellationToken)
    {
        using var http = fixture.CreateClient("gateway");
        using var response = await http.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken }, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!;
    }

    private static async Task<HttpStatusCode> RefusedQueryTokenStatusAsync(Uri replica, string token, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(TestWebSocket.WebSocketUri(replica, token), cancellationToken));
        return socket.HttpStatusCode;
    }
}
