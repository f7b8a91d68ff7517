using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;
using Yac.Tests.Telemetry;

namespace Yac.Tests.Gateway;

[Collection(ObservedAppCollection.Name)]
public sealed class GatewayRedisOutageTests(ObservedAppFixture fixture, ITestOutputHelper output)
{
    private const int SentWhileRedisIsDown = 6;

    [Fact]
    public async Task AfterARedisOutageEverySocketGetsEveryAcknowledgedMessageOnceInOrderWithoutReconnectingAndPresenceIsRight()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var alicePhone = await fixture.LoginAgainAsync(alice, "phone", timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var bobPhone = await fixture.LoginAgainAsync(bob, "phone", timeout.Token);
        var dave = await fixture.RegisterAndLoginAsync("dave", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob, dave], timeout.Token);

        // Both users, each with a socket on each replica.
        var sockets = new List<ChatReader>();
        await using var aliceOnFirst = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        await using var aliceOnSecond = await TestWebSocket.ConnectAsync(second, alicePhone.AccessToken, timeout.Token);
        await using var bobOnFirst = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        await using var bobOnSecond = await TestWebSocket.ConnectAsync(second, bobPhone.AccessToken, timeout.Token);
        await using var daveOnSecond = await TestWebSocket.ConnectAsync(second, dave.AccessToken, timeout.Token);
        var aliceSender = new ChatReader(aliceOnFirst, chatId);
        var bobSender = new ChatReader(bobOnSecond, chatId);
        sockets.AddRange([aliceSender, new ChatReader(aliceOnSecond, chatId), new ChatReader(bobOnFirst, chatId), bobSender]);

        var acked = new List<long> { await aliceSender.SendUntilAckedAsync("before the outage", "before", timeout.Token) };
        foreach (var socket in sockets)
        {
            await socket.WaitForSeqsAsync(acked, timeout.Token);
        }

        await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-stop", timeout.Token);
        var outcomes = new List<string>();
        var unavailable = new List<(ChatReader Sender, string ClientMsgId, string Text)>();
        try
        {
            // The replicas noticed: each reports its Redis check unhealthy.
            using var firstHttp = TestHttp.Create(first);
            using var secondHttp = TestHttp.Create(second);
            await Task.WhenAll(firstHttp.WaitForHealthAsync(HttpStatusCode.ServiceUnavailable, timeout.Token),
                secondHttp.WaitForHealthAsync(HttpStatusCode.ServiceUnavailable, timeout.Token));

            for (var i = 1; i <= SentWhileRedisIsDown; i++)
            {
                // From both replicas, one send at a time as a client would.
                var sender = i % 2 == 0 ? bobSender : aliceSender;
                var (clientMsgId, text) = ($"down-{i}", $"while redis is down {i}");
                var stopwatch = Stopwatch.StartNew();
                var answer = await sender.SendAsync(clientMsgId, text, timeout.Token);
                outcomes.Add($"{clientMsgId}: {answer.Type()} after {stopwatch.ElapsedMilliseconds} ms");
                if (answer.Type() == "ack")
                {
                    acked.Add(answer.Seq());
                }
                else
                {
                    // The only other answer the contract allows here: not accepted, retry with the same clientMsgId.
                    Assert.Equal("unavailable", answer.GetProperty("code").GetString());
                    unavailable.Add((sender, clientMsgId, text));
                }
            }
        }
        finally
        {
            await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-start", timeout.Token);
            output.WriteLine(string.Join(Environment.NewLine, outcomes));
        }

        foreach (var (sender, clientMsgId, text) in unavailable)
        {
            acked.Add(await sender.SendUntilAckedAsync(text, clientMsgId, timeout.Token));
        }

        // Every acknowledged message reaches every socket, once and in seq order, on the sockets that
        // were open all along: the replicas resubscribed and caught up from history by themselves.
        var stopwatchCatchUp = Stopwatch.StartNew();
        Assert.Equal(Enumerable.Range(1, 1 + SentWhileRedisIsDown).Select(seq => (long)seq), acked.Order());
        foreach (var socket in sockets)
        {
            await socket.WaitForSeqsAsync(acked, timeout.Token);
        }

        output.WriteLine($"every socket caught up {stopwatchCatchUp.ElapsedMilliseconds} ms after Redis was started again");

        // Live delivery works again, still without duplicates.
        acked.Add(await bobSender.SendUntilAckedAsync("after the outage", "after", timeout.Token));
        foreach (var socket in sockets)
        {
            await socket.WaitForSeqsAsync(acked, timeout.Token);
            await socket.AssertNothingMoreAsync(timeout.Token);
            Assert.False(socket.Socket.Closed.IsCompleted, "the socket stayed open through the outage");
        }

        // Presence is right again, though Redis came back empty: bob keeps a socket on the first
        // replica, so closing his other one does not take him offline for alice; dave, who closes his
        // only socket after bob, does go offline (after bob's offline, if there were one: same replica, same order).
        await bobOnSecond.CloseAsync(timeout.Token);
        await daveOnSecond.CloseAsync(timeout.Token);
        var presence = new List<JsonElement>();
        do
        {
            presence.Add(await aliceOnFirst.NextWhereAsync(frame => frame.Type() == "presence", timeout.Token));
        }
        while (!IsPresence(presence[^1], dave.Id, online: false));
        Assert.DoesNotContain(presence, frame => IsPresence(frame, bob.Id, online: false));
        await bobOnFirst.CloseAsync(timeout.Token);
        await aliceOnFirst.NextWhereAsync(frame => IsPresence(frame, bob.Id, online: false), timeout.Token);

        // Operators see it: each replica counted its reconnect.
        var reconnects = await fixture.Telemetry.WaitForAsync(
            telemetry =>
            {
                var perReplica = telemetry.Metrics.Where(point => point.Service == "gateway" && point.Name == "yac.gateway.redis.reconnects").ToList();
                return perReplica.Count(point => point.Value >= 1) >= YacAppFixture.DefaultGatewayReplicas ? perReplica : null;
            },
            "yac.gateway.redis.reconnects >= 1 on each gateway replica", TimeSpan.FromSeconds(60), timeout.Token);
        Assert.Equal(YacAppFixture.DefaultGatewayReplicas, reconnects.Select(point => point.Instance).Distinct().Count());
    }

    private static bool IsPresence(JsonElement frame, Guid userId, bool online) =>
        frame.Type() == "presence" && frame.GetProperty("userId").GetGuid() == userId && frame.GetProperty("online").GetBoolean() == online;

    /// <summary>One socket's view of one chat: the message seqs it received, in arrival order.</summary>
    private sealed class ChatReader(TestWebSocket socket, Guid chatId)
    {
        private readonly List<long> _seqs = [];

        public TestWebSocket Socket { get; } = socket;

        /// <summary>Sends a message and reads up to its answer (an <c>ack</c> or an <c>error</c> with its clientMsgId).</summary>
        public async Task<JsonElement> SendAsync(string clientMsgId, string text, CancellationToken cancellationToken)
        {
            await Socket.SendAsync(new { type = "send", chatId, clientMsgId, text }, cancellationToken);
            while (true)
            {
                var frame = await NextAsync(cancellationToken);
                if ((frame.Type() == "ack" && frame.GetProperty("clientMsgId").GetString() == clientMsgId)
                    || (frame.Type() == "error" && frame.TryGetProperty("ref", out var reference) && reference.GetString() == clientMsgId))
                {
                    return frame;
                }
            }
        }

        /// <summary>Sends, retrying with the same clientMsgId while the answer is <c>unavailable</c>, and returns the acked seq.</summary>
        public async Task<long> SendUntilAckedAsync(string text, string clientMsgId, CancellationToken cancellationToken)
        {
            for (var attempt = 1; ; attempt++)
            {
                var answer = await SendAsync(clientMsgId, text, cancellationToken);
                if (answer.Type() == "ack")
                {
                    return answer.Seq();
                }

                Assert.True(attempt < 30, $"still {answer.GetRawText()} after {attempt} attempts");
                Assert.Equal("unavailable", answer.GetProperty("code").GetString());
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // a client's retry back-off
            }
        }

        /// <summary>Reads until every one of <paramref name="expected"/> arrived; the seqs so far must be exactly 1..max, in order.</summary>
        public async Task WaitForSeqsAsync(IReadOnlyCollection<long> expected, CancellationToken cancellationToken)
        {
            var target = expected.Max();
            while (_seqs.Count == 0 || _seqs[^1] < target)
            {
                await NextAsync(cancellationToken, TimeSpan.FromSeconds(60));
            }

            Assert.Equal(Enumerable.Range(1, (int)target).Select(seq => (long)seq), _seqs);
        }

        /// <summary>A ping round trip shows nothing else of the chat was queued (no duplicate).</summary>
        public async Task AssertNothingMoreAsync(CancellationToken cancellationToken)
        {
            var rest = await Socket.FramesUntilPongAsync(cancellationToken);
            Assert.DoesNotContain(rest, frame => frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == chatId);
        }

        private async Task<JsonElement> NextAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
        {
            var frame = await Socket.NextAsync(cancellationToken, timeout);
            if (frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == chatId)
            {
                _seqs.Add(frame.Seq());
            }

            return frame;
        }
    }
}
