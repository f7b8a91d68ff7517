using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using StackExchange.Redis;
using Yac.Tests.Chats;
using Yac.Tests.Gateway;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Hardening;

/// <summary>
/// The per-user budgets and socket caps, through the real gateway (both replicas), ChatService and
/// Redis, on an app whose limits are small (<see cref="LowLimitsAppFixture"/>).
/// </summary>
[Collection(LowLimitsAppCollection.Name)]
public sealed class RateLimitTests(LowLimitsAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "memberJoined", "message"];

    [Fact]
    public async Task FourHundredConcurrentRestSendsFromOneUserGet429sWithRetryAfterAndNo5xxAndHisSocketSendsShareTheBudget()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        await using var aliceSocket = await TestWebSocket.ConnectAsync(second, alice.AccessToken, timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);

        var responses = await Task.WhenAll(Enumerable.Range(0, 400).Select(async index =>
        {
            using var response = await http.PostAsJsonAsync(
                $"/api/chats/{chatId}/messages", new { clientMsgId = $"flood-{index}", text = $"flood {index}" }, timeout.Token);
            var retryAfter = response.Headers.RetryAfter?.Delta;
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            return (response.StatusCode, retryAfter, response.Content.Headers.ContentType?.MediaType, body);
        }));
        await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId = "over-the-socket", text = "one more" }, timeout.Token);
        var socketAnswer = await aliceSocket.NextWhereAsync(frame => frame.IsAnswerTo("over-the-socket"), timeout.Token);
        await using var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        using var bobHttp = fixture.CreateClient("gateway", bob);
        var bobSeq = await bobHttp.SendOverRestAsync(chatId, "another user's budget is his own", timeout.Token);

        Assert.DoesNotContain(responses, response => (int)response.StatusCode >= 500);
        var accepted = responses.Count(response => response.StatusCode == HttpStatusCode.Created);
        var limited = responses.Where(response => response.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(400, accepted + limited.Count);
        Assert.Equal(LowLimitsAppFixture.Sends, accepted);
        Assert.All(limited, response =>
        {
            Assert.Equal("application/problem+json", response.MediaType);
            Assert.NotNull(response.retryAfter);
            Assert.InRange(response.retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            using var problem = JsonDocument.Parse(response.body);
            Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        });
        Assert.Equal("error", socketAnswer.Type());
        Assert.Equal("rate_limited", socketAnswer.GetProperty("code").GetString());
        Assert.Equal(accepted + 1, bobSeq);
    }

    [Fact]
    public async Task ChatCreationBeyondTheBudgetIs429()
    {
        var alice = await fixture.RegisterAndLoginAsync("alice");
        using var http = fixture.CreateClient("gateway", alice);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= LowLimitsAppFixture.SmallBudget; i++)
        {
            using var response = await http.PostAsJsonAsync("/api/chats", new { kind = "group", title = $"chat {i}", memberIds = Array.Empty<Guid>() });
            statuses.Add(response.StatusCode);
            if (i == LowLimitsAppFixture.SmallBudget)
            {
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests);
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
            }
        }

        Assert.All(statuses.Take(LowLimitsAppFixture.SmallBudget), status => Assert.Equal(HttpStatusCode.Created, status));
    }

    [Fact]
    public async Task MemberChangesBeyondTheBudgetAre429()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= LowLimitsAppFixture.SmallBudget; i++)
        {
            using var response = i % 2 == 0
                ? await http.PutAsync($"/api/chats/{chatId}/members/{bob.Id}", content: null, timeout.Token)
                : await http.DeleteAsync($"/api/chats/{chatId}/members/{bob.Id}", timeout.Token);
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses.Take(LowLimitsAppFixture.SmallBudget), status => Assert.Equal(HttpStatusCode.NoContent, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public async Task EditsAndReactionsSpendTheSendBudgetAndBeyondItAre429()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);
        var seq = await http.SendOverRestAsync(chatId, "to be edited", timeout.Token);
        var reaction = $"/api/chats/{chatId}/messages/{seq}/reactions/{Uri.EscapeDataString("👍")}";

        // The budget less the first send and the three changes below goes on sends.
        var fill = await Task.WhenAll(Enumerable.Range(0, LowLimitsAppFixture.Sends - 4).Select(async index =>
        {
            using var response = await http.PostAsJsonAsync(
                $"/api/chats/{chatId}/messages", new { clientMsgId = $"fill-{index}", text = $"fill {index}" }, timeout.Token);
            return response.StatusCode;
        }));
        var changes = new List<HttpStatusCode>();
        using (var edit = await http.PatchAsJsonAsync($"/api/chats/{chatId}/messages/{seq}", new { text = "edited" }, timeout.Token))
        {
            changes.Add(edit.StatusCode);
        }

        using (var react = await http.PutAsync(reaction, content: null, timeout.Token))
        {
            changes.Add(react.StatusCode);
        }

        using (var unreact = await http.DeleteAsync(reaction, timeout.Token))
        {
            changes.Add(unreact.StatusCode);
        }

        using var editOver = await http.PatchAsJsonAsync($"/api/chats/{chatId}/messages/{seq}", new { text = "over" }, timeout.Token);
        using var reactOver = await http.PutAsync(reaction, content: null, timeout.Token);
        using var sendOver = await http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId = "over", text = "over" }, timeout.Token);

        Assert.All(fill, status => Assert.Equal(HttpStatusCode.Created, status));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.NoContent], changes);
        await ProblemAssert.IsProblemAsync(editOver, HttpStatusCode.TooManyRequests);
        Assert.NotNull(editOver.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.TooManyRequests, reactOver.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, sendOver.StatusCode);
    }

    [Fact]
    public async Task HistoryAndSearchReadsShareABudgetAndBeyondItAre429()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= LowLimitsAppFixture.SmallBudget; i++)
        {
            using var response = await http.GetAsync(i % 2 == 0 ? $"/api/chats/{chatId}/messages" : "/api/search?q=hello", timeout.Token);
            statuses.Add(response.StatusCode);
        }

        // The change log is not under it: the gateway reads it on the sockets' behalf.
        using var changes = await http.GetAsync($"/api/chats/{chatId}/changes", timeout.Token);

        Assert.All(statuses.Take(LowLimitsAppFixture.SmallBudget), status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(HttpStatusCode.OK, changes.StatusCode);
    }

    [Fact]
    public async Task SocketsBeyondTheDeviceAndUserCapsAreRefusedWith429OnEitherReplicaUntilOneCloses()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var laptop = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var phone = await fixture.LoginAgainAsync(laptop, cancellationToken: timeout.Token);
        var sockets = new List<TestWebSocket>();
        try
        {
            for (var i = 0; i < LowLimitsAppFixture.SocketsPerDevice; i++)
            {
                sockets.Add(await TestWebSocket.ConnectAsync(i % 2 == 0 ? first : second, laptop.AccessToken, timeout.Token));
            }

            var laptopRefused = await GatewayScenario.RefusedStatusAsync(second, laptop.AccessToken, origin: null, timeout.Token);
            for (var i = LowLimitsAppFixture.SocketsPerDevice; i < LowLimitsAppFixture.SocketsPerUser; i++)
            {
                sockets.Add(await TestWebSocket.ConnectAsync(first, phone.AccessToken, timeout.Token));
            }

            var phoneRefused = await GatewayScenario.RefusedStatusAsync(second, phone.AccessToken, origin: null, timeout.Token);

            // Closing one gives its place back (the lease is released as the socket ends).
            await sockets[0].CloseAsync(timeout.Token);
            await sockets[0].DisposeAsync();
            sockets.RemoveAt(0);
            var again = await ConnectWhenAdmittedAsync(second, laptop.AccessToken, timeout.Token);
            sockets.Add(again);
            await again.SendAsync(new { type = "ping", id = "admitted" }, timeout.Token);
            var pong = await again.NextSkippingAsync("pong", s_noise, timeout.Token);

            Assert.Equal(HttpStatusCode.TooManyRequests, laptopRefused);
            Assert.Equal(HttpStatusCode.TooManyRequests, phoneRefused);
            Assert.Equal("admitted", pong.GetProperty("id").GetString());
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task LeasesOfAReplicaThatDiedStopCountingOnceTheyExpire()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);

        // A replica died holding all of Alice's places: their leases were renewed last a while ago
        // and run out in 3 s (nobody renews them any more, nobody removes them).
        await using (var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis", timeout.Token))!))
        {
            var expires = DateTimeOffset.UtcNow.AddSeconds(3).ToUnixTimeMilliseconds();
            var key = $"yac:sockets:user:{alice.Id:N}";
            for (var i = 0; i < LowLimitsAppFixture.SocketsPerUser; i++)
            {
                await redis.GetDatabase().SortedSetAddAsync(key, $"dead-replica-{i}", expires);
            }
        }

        var whileHeld = await GatewayScenario.RefusedStatusAsync(first, alice.AccessToken, origin: null, timeout.Token);
        await using var admitted = await ConnectWhenAdmittedAsync(first, alice.AccessToken, timeout.Token);

        Assert.Equal(HttpStatusCode.TooManyRequests, whileHeld);
        Assert.Equal("hello", admitted.Hello.Type());
    }

    [Fact]
    public async Task ResumesBeyondTheSocketsBudgetGetRateLimitedAndTheSocketStaysUsable()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        var resume = new { type = "resume", chats = new Dictionary<string, long> { [chatId.ToString()] = 0 } };

        for (var i = 0; i < LowLimitsAppFixture.ResumesPerMinute; i++)
        {
            await socket.SendAsync(resume, timeout.Token);
            await socket.NextSkippingAsync("resumed", s_noise, timeout.Token);
        }

        await socket.SendAsync(resume, timeout.Token);
        var refused = await socket.NextSkippingAsync("error", s_noise, timeout.Token);
        await socket.SendAsync(new { type = "ping", id = "still-there" }, timeout.Token);
        var pong = await socket.NextSkippingAsync("pong", s_noise, timeout.Token);

        Assert.Equal("rate_limited", refused.GetProperty("code").GetString());
        Assert.Equal("still-there", pong.GetProperty("id").GetString());
        Assert.False(socket.Closed.IsCompleted);
    }

    [Fact]
    public async Task ASecondResumeWhileOneIsInFlightGetsRateLimited()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);
        for (var i = 0; i < 20; i++)
        {
            await http.SendOverRestAsync(chatId, $"history {i}", timeout.Token);
        }

        // Whether the second resume reaches the gateway while the first is still reading the log is a
        // race the test cannot win every time (the read is one local HTTP call): an attempt where the
        // first one had already finished must show both answered in full, and then the test tries again
        // on a new socket. Without the guard every attempt is of that kind, and the test fails.
        var resume = new { type = "resume", chats = new Dictionary<string, long> { [chatId.ToString()] = 0 } };
        for (var attempt = 1; ; attempt++)
        {
            await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
            await socket.SendAsync(resume, timeout.Token);
            await socket.SendAsync(resume, timeout.Token);

            var frames = new List<JsonElement>();
            while (frames.Count(frame => frame.Type() is "resumed" or "error") < 2)
            {
                frames.Add(await socket.NextAsync(timeout.Token));
            }

            var answers = frames.Where(frame => frame.Type() is "resumed" or "error").Select(frame => frame.Type()).ToList();
            var messages = frames.Count(frame => frame.Type() == "message");
            if (answers[0] == "resumed" && attempt < 4)
            {
                Assert.Equal(["resumed", "resumed"], answers);
                Assert.Equal(40, messages);
                await socket.CloseAsync(timeout.Token);
                continue;
            }

            Assert.Equal(["error", "resumed"], answers);
            Assert.Equal("rate_limited", frames.First(frame => frame.Type() == "error").GetProperty("code").GetString());
            Assert.Equal(20, messages);
            return;
        }
    }

    private static async Task<TestWebSocket> ConnectWhenAdmittedAsync(Uri replica, string accessToken, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                return await TestWebSocket.ConnectAsync(replica, accessToken, bounded.Token);
            }
            catch (System.Net.WebSockets.WebSocketException) when (!bounded.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), bounded.Token);
            }
        }
    }
}
