using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// A dependency down fails fast: with ChatService (or Identity) killed, what needs it is answered
/// within 5 s (REST 503 problem details, a socket send <c>unavailable</c>, a new socket refused
/// before the upgrade), the gateway's <c>/health</c> names the missing dependency, and all of it
/// recovers by itself once the service is back. Each test starts the service again in <c>finally</c>.
/// </summary>
[Collection(FaultAppCollection.Name)]
public sealed class DependencyDownTests(FaultAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_failFast = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_recovery = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task WhileChatServiceIsDownTheGatewayAnswersWithinFiveSecondsAndRecoversByItself()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = timeout.Token;
        var replica = await AnsweringReplicaAsync(token);
        var alice = await fixture.RegisterAndLoginAsync("down-alice", cancellationToken: token);
        var chatId = await fixture.CreateGroupAsync(alice, [], token);
        using var http = Client(replica, alice);
        await using var socket = await TestWebSocket.ConnectAsync(replica, alice.AccessToken, token);

        try
        {
            await fixture.KillAsync("chat", token);

            var clock = Stopwatch.StartNew();
            using (var response = await http.GetAsync($"/api/chats/{chatId}", token))
            {
                var took = clock.Elapsed;
                output.WriteLine($"REST while ChatService is down: {(int)response.StatusCode} in {took.TotalMilliseconds:F0} ms");
                await AssertUnavailableProblemAsync(response, token);
                Assert.True(took < s_failFast, $"REST answered after {took}");
            }

            clock.Restart();
            await socket.SendAsync(new { type = "send", chatId, clientMsgId = "while-down", text = "hello?" }, token);
            var answer = await socket.NextWhereAsync(frame => frame.IsAnswerTo("while-down"), token);
            var sendTook = clock.Elapsed;
            output.WriteLine($"send while ChatService is down: {answer.Type()} in {sendTook.TotalMilliseconds:F0} ms");
            Assert.Equal("error", answer.Type());
            Assert.Equal("unavailable", answer.GetProperty("code").GetString());
            Assert.True(sendTook < s_failFast, $"the send was answered after {sendTook}");

            clock.Restart();
            var refused = await GatewayScenario.RefusedStatusAsync(replica, alice.AccessToken, origin: null, token);
            var upgradeTook = clock.Elapsed;
            output.WriteLine($"upgrade while ChatService is down: {(int)refused} in {upgradeTook.TotalMilliseconds:F0} ms");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
            Assert.True(upgradeTook < s_failFast, $"the upgrade was refused after {upgradeTook}");

            var health = await HealthAsync(http, token);
            Assert.Equal("Degraded", health.Status);
            Assert.Equal("Degraded", health.Checks["chat"]);
            Assert.Equal("Healthy", health.Checks["identity"]);
            Assert.False(socket.Closed.IsCompleted, "a socket open before the outage stays open through it");
        }
        finally
        {
            await RestartAsync("chat");
        }

        var back = Stopwatch.StartNew();
        await EventuallyOkAsync(() => http.GetAsync($"/api/chats/{chatId}", token), token);
        output.WriteLine($"REST answered again {back.ElapsedMilliseconds} ms after ChatService was healthy");
        await socket.SendAsync(new { type = "send", chatId, clientMsgId = "after-down", text = "back" }, token);
        var ack = await socket.NextWhereAsync(frame => frame.IsAnswerTo("after-down"), token);
        Assert.Equal("ack", ack.Type());
        await using var again = await TestWebSocket.ConnectAsync(replica, alice.AccessToken, token);
        Assert.Equal("Healthy", (await HealthAsync(http, token)).Checks["chat"]);
    }

    [Fact]
    public async Task WhileIdentityIsDownItsRoutesAndTheLookupsThatNeedItAnswerWithinFiveSecondsAndChatsGoOn()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = timeout.Token;
        var replica = await AnsweringReplicaAsync(token);
        var alice = await fixture.RegisterAndLoginAsync("idown-alice", cancellationToken: token);
        var chatId = await fixture.CreateGroupAsync(alice, [], token);
        using var http = Client(replica, alice);
        // This replica has fetched Identity's keys (to check this socket's token) before the outage.
        await using var before = await TestWebSocket.ConnectAsync(replica, alice.AccessToken, token);

        try
        {
            await fixture.KillAsync("identity", token);

            var clock = Stopwatch.StartNew();
            using (var login = await http.PostAsJsonAsync("/api/tokens", new { username = alice.Username, password = "whatever-it-is" }, token))
            {
                var took = clock.Elapsed;
                output.WriteLine($"login while Identity is down: {(int)login.StatusCode} in {took.TotalMilliseconds:F0} ms");
                await AssertUnavailableProblemAsync(login, token);
                Assert.True(took < s_failFast, $"the login was answered after {took}");
            }

            // Adding a user ChatService has not seen needs Identity: 503, and nothing is created.
            clock.Restart();
            using (var create = await http.PostAsJsonAsync("/api/chats", new { kind = "group", title = "needs identity", memberIds = new[] { Guid.NewGuid() } }, token))
            {
                var took = clock.Elapsed;
                output.WriteLine($"group with an unseen member while Identity is down: {(int)create.StatusCode} in {took.TotalMilliseconds:F0} ms");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, create.StatusCode);
                Assert.True(took < s_failFast, $"the chat creation was answered after {took}");
            }

            // What does not need Identity goes on: tokens are checked with the keys already fetched,
            // and a send reaches the socket opened before the outage.
            using (var send = await http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId = "identity-down", text = "still here" }, token))
            {
                Assert.Equal(HttpStatusCode.Created, send.StatusCode);
            }

            await before.NextWhereAsync(frame => frame.Type() == "message" && frame.GetProperty("clientMsgId").GetString() == "identity-down", token);
            await using var socket = await TestWebSocket.ConnectAsync(replica, alice.AccessToken, token);
            var health = await HealthAsync(http, token);
            Assert.Equal("Degraded", health.Checks["identity"]);
            Assert.Equal("Healthy", health.Checks["chat"]);
        }
        finally
        {
            await RestartAsync("identity");
        }

        await EventuallyOkAsync(() => http.PostAsJsonAsync("/api/tokens", new { username = alice.Username, password = alice.Password }, token), token);
        Assert.Equal("Healthy", (await HealthAsync(http, token)).Checks["identity"]);
    }

    private static HttpClient Client(Uri replica, TestUser user)
    {
        var http = TestHttp.Create(replica);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return http;
    }

    /// <summary>A gateway replica that answers (an earlier test of the collection may have restarted one).</summary>
    private async Task<Uri> AnsweringReplicaAsync(CancellationToken cancellationToken)
    {
        var replica = (await fixture.GetGatewayReplicaUrlsAsync(cancellationToken)).OrderBy(url => url.Port).First();
        using var http = TestHttp.Create(replica);
        await EventuallyOkAsync(() => http.GetAsync("/alive", cancellationToken), cancellationToken);
        return replica;
    }

    private async Task RestartAsync(string resource)
    {
        // Its own budget: a test that failed (or ran out of time) must still leave the service running.
        using var restart = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await fixture.StartAsync(resource, restart.Token);
    }

    private static async Task AssertUnavailableProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
    }

    private static async Task<(string Status, Dictionary<string, string> Checks)> HealthAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var health = await http.GetFromJsonAsync<JsonElement>("/health", cancellationToken);
        var checks = health.GetProperty("checks").EnumerateObject().ToDictionary(check => check.Name, check => check.Value.GetString()!);
        return (health.GetProperty("status").GetString()!, checks);
    }

    private static async Task EventuallyOkAsync(Func<Task<HttpResponseMessage>> call, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_recovery);
        HttpStatusCode? last = null;
        while (!limit.IsCancellationRequested)
        {
            try
            {
                using var response = await call();
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = response.StatusCode;
            }
            catch (HttpRequestException)
            {
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        Assert.Fail($"not answered within {s_recovery} (last status: {last?.ToString() ?? "none"})");
    }
}
