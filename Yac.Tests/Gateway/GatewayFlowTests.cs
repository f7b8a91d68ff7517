using System.Net.WebSockets;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayFlowTests(YacAppFixture fixture, ITestOutputHelper output)
{
    private const int FloodSize = 5_000;
    private const int SenderCount = 8;

    /// <summary>
    /// By then ~14 MB have flowed to the slow client: far more than its send queue (1,024 frames of
    /// ~4 KB), the server's kernel send buffer (at most 4 MB here) and its own 16 KB receive buffer hold.
    /// </summary>
    private const int SlowClientWakesUpAt = 3_500;

    [Fact]
    public async Task ClientThatReadsNothingIsClosedWith1013WhileAnotherClientSeesEveryMessage()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var sloth = await fixture.RegisterAndLoginAsync("sloth", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [sloth], timeout.Token);

        await using var reader = await TestWebSocket.ConnectAsync(second, alice.AccessToken, timeout.Token);
        await using var slowClient = await TestWebSocket.ConnectAsync(
            first, sloth.AccessToken, timeout.Token, readFrames: false, receiveBufferBytes: 16 * 1024);

        // The largest messages, so the slow client's buffers fill up early in the flood.
        var text = new string('z', 4000);
        var sentAt = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var next = 0;
        var senders = Enumerable.Range(0, SenderCount).Select(async _ =>
        {
            using var http = fixture.CreateClient("chat", alice);
            while (Interlocked.Increment(ref next) <= FloodSize)
            {
                await http.SendOverRestAsync(chatId, text, timeout.Token);
            }
        }).ToList();

        var latencies = new List<double>(FloodSize);
        var expectedSeq = 1L;
        Task<WebSocketCloseStatus?>? slowClientClosed = null;
        while (expectedSeq <= FloodSize)
        {
            if (expectedSeq == SlowClientWakesUpAt && slowClientClosed is null)
            {
                // By now far more has flowed than its queue and both kernels' socket buffers hold. It
                // reads what was buffered for it, then its close: a close frame reaches only a reader.
                slowClient.StartReading();
                slowClientClosed = slowClient.WaitForCloseAsync(timeout.Token, TimeSpan.FromMinutes(2));
            }

            var frame = await reader.NextAsync(timeout.Token);
            if (frame.Type() != "message")
            {
                continue;
            }

            Assert.Equal(expectedSeq, frame.Seq());
            latencies.Add((DateTimeOffset.UtcNow - frame.GetProperty("sentAt").GetDateTimeOffset()).TotalMilliseconds);
            expectedSeq++;
        }

        await Task.WhenAll(senders);
        Assert.Equal(FloodSize, latencies.Count);

        Assert.Equal((WebSocketCloseStatus)1013, await slowClientClosed!);
        Assert.True(slowClient.FramesReceived < SlowClientWakesUpAt, $"the slow client got {slowClient.FramesReceived} frames");

        latencies.Sort();
        output.WriteLine(
            $"{FloodSize} messages, {SenderCount} REST senders: commit-to-client latency p50 {Percentile(latencies, 0.50):F1} ms, " +
            $"p99 {Percentile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms; the slow client got {slowClient.FramesReceived} frames before 1013");
    }

    [Fact]
    public async Task ResumeAfterDisconnectReplaysEveryMissedMessageInOrderThenLiveWithoutDuplicates()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("chat", alice);

        var lastSeen = await aliceHttp.SendOverRestAsync(chatId, "before the disconnect", timeout.Token);
        await using (var bobBefore = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token))
        {
            await bobBefore.CloseAsync(timeout.Token);
        }

        for (var i = 1; i <= 300; i++)
        {
            await aliceHttp.SendOverRestAsync(chatId, $"missed {i}", timeout.Token);
        }

        await using var bobAgain = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);
        await bobAgain.SendAsync(new { type = "resume", chats = new Dictionary<string, long> { [chatId.ToString()] = lastSeen } }, timeout.Token);
        // Live messages race with the replay.
        var live = Task.Run(async () =>
        {
            for (var i = 1; i <= 20; i++)
            {
                await aliceHttp.SendOverRestAsync(chatId, $"live {i}", timeout.Token);
            }
        });

        var seqs = new List<long>();
        var resumedSeen = false;
        while (seqs.Count < 320)
        {
            var frame = await bobAgain.NextAsync(timeout.Token);
            switch (frame.Type())
            {
                case "message":
                    seqs.Add(frame.Seq());
                    break;
                case "resumed":
                    Assert.False(resumedSeen);
                    resumedSeen = true;
                    var resumedSeq = frame.GetProperty("chats").GetProperty(chatId.ToString()).GetInt64();
                    Assert.True(resumedSeq >= lastSeen + 300, $"resumed at {resumedSeq}");
                    Assert.Equal(resumedSeq, seqs[^1]);
                    break;
                default:
                    Assert.Equal("presence", frame.Type());
                    break;
            }
        }

        await live;
        Assert.True(resumedSeen || (await bobAgain.NextSkippingAsync("resumed", ["presence"], timeout.Token)).Type() == "resumed");
        Assert.Equal(Enumerable.Range((int)lastSeen + 1, 320).Select(seq => (long)seq), seqs);
        Assert.DoesNotContain(await bobAgain.FramesUntilPongAsync(timeout.Token), frame => frame.Type() == "message");
    }

    [Fact]
    public async Task LogoutClosesTheDevicesSocketsOnEveryReplicaWith4001AndLeavesOtherDevicesOpen()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var alicePhone = await fixture.LoginAgainAsync(alice, "phone", timeout.Token);

        await using var laptopOnFirst = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        await using var laptopOnSecond = await TestWebSocket.ConnectAsync(second, alice.AccessToken, timeout.Token);
        await using var phone = await TestWebSocket.ConnectAsync(first, alicePhone.AccessToken, timeout.Token);

        using (var http = fixture.CreateClient("gateway", alice))
        using (var response = await http.PostAsync("/api/logout", content: null, timeout.Token))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        }

        Assert.Equal((WebSocketCloseStatus)4001, await laptopOnFirst.WaitForCloseAsync(timeout.Token));
        Assert.Equal((WebSocketCloseStatus)4001, await laptopOnSecond.WaitForCloseAsync(timeout.Token));
        await phone.FramesUntilPongAsync(timeout.Token);
        Assert.False(phone.Closed.IsCompleted);

        // The revoked token cannot open a new socket either, on any replica.
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(first, alice.AccessToken, origin: null, timeout.Token));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await GatewayScenario.RefusedStatusAsync(second, alice.AccessToken, origin: null, timeout.Token));
    }

    private static double Percentile(List<double> sorted, double fraction) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
}
