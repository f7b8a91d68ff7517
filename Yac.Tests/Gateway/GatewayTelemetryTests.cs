using System.Net.WebSockets;
using System.Text.Json;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;
using Yac.Tests.Telemetry;
using Yac.Tests.Telemetry.Otlp;

namespace Yac.Tests.Gateway;

/// <summary>What an operator sees of the gateway in an OTLP backend: traces and meters, as exported.</summary>
[Collection(ObservedAppCollection.Name)]
public sealed class GatewayTelemetryTests(ObservedAppFixture fixture, ITestOutputHelper output)
{
    private const string Gateway = "gateway";
    private static readonly TimeSpan s_exportTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AMessageIsOneTraceFromTheSendFrameThroughChatServiceAndRedisToEverySocketWrite()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var scenario = await fixture.StartThreeDeviceChatAsync(timeout.Token);
        var (aliceLaptop, chatId, sockets) = (scenario.AliceLaptop, scenario.ChatId, scenario.Sockets);
        var chat = chatId.ToString("D");
        var telemetry = fixture.Telemetry;

        // Once subscribed to a chat, each replica reads its log once (what was committed before the
        // subscription); a message committed before that read may reach sockets from the log, without
        // the trace. So the traced message goes out after both replicas' reads.
        await telemetry.WaitForAsync(
            received => received.Spans
                .Where(span => span.Service == Gateway && span.Kind == SpanKind.Client && span.Attribute("http.request.method") == "GET"
                    && (span.Attribute("url.full") ?? span.Attribute("http.url") ?? "").Contains($"/api/chats/{chat}/changes", StringComparison.Ordinal))
                .Select(span => span.Instance).Distinct().Count() >= YacAppFixture.DefaultGatewayReplicas ? chat : null,
            "each replica's first read of the new chat's log", s_exportTimeout, timeout.Token);

        await aliceLaptop.SendAsync(new { type = "send", chatId, clientMsgId = "traced", text = "follow me" }, timeout.Token);
        // The sender's socket gets its ack and the message in either order: the message's way through
        // Redis can beat the send batch's HTTP answer. So both are read from it, whichever comes first.
        JsonElement? ack = null;
        var laptopGotMessage = false;
        while (ack is null || !laptopGotMessage)
        {
            var frame = await aliceLaptop.NextWhereAsync(frame => frame.Type() is "ack" or "message", timeout.Token);
            if (frame.Type() == "ack")
            {
                ack = frame;
            }
            else
            {
                laptopGotMessage |= frame.GetProperty("chatId").GetGuid() == chatId;
            }
        }

        foreach (var socket in sockets.Where(socket => !ReferenceEquals(socket, aliceLaptop)))
        {
            try
            {
                await socket.NextWhereAsync(frame => frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == chatId, timeout.Token);
            }
            catch (TimeoutException)
            {
                // What the replicas did with this chat, for the one who has to find out why.
                output.WriteLine($"socket {socket.Hello.GetProperty("connectionId").GetString()} on gateway {socket.Hello.GetProperty("gatewayId").GetString()} got no message of chat {chat}");
                foreach (var line in await fixture.GetResourceLogsAsync(Gateway, CancellationToken.None))
                {
                    output.WriteLine(line);
                }

                throw;
            }
        }

        var seq = ack.Value.Seq().ToString(System.Globalization.CultureInfo.InvariantCulture);

        // The trace starts at the sender's frame...
        var send = await telemetry.WaitForAsync(
            received => received.Spans.FirstOrDefault(span => span.Service == Gateway && span.Name == "ws send"
                && span.Attribute("yac.chat.id") == chat && span.Attribute("yac.message.seq") == seq),
            "the gateway's 'ws send' span of the message", s_exportTimeout, timeout.Token);
        Assert.Equal("", send.ParentSpanId);
        Assert.Equal(SpanKind.Server, send.Kind);

        // ...and ends in one socket write per socket of the chat's members, on both replicas.
        var connectionIds = sockets.Select(socket => socket.Hello.GetProperty("connectionId").GetString()!).Order().ToList();
        var writes = await telemetry.WaitForAsync(
            received =>
            {
                var found = received.Spans.Where(span => span.TraceId == send.TraceId && span.Name == "ws deliver message").ToList();
                return found.Count >= connectionIds.Count ? found : null;
            },
            "a 'ws deliver message' span for every socket in the send's trace", s_exportTimeout, timeout.Token);
        Assert.Equal(connectionIds, writes.Select(span => span.Attribute("yac.connection.id")).Order());

        // In between, all in the same trace: ChatService's handling of this send, its publish on Redis,
        // and one receive on each replica.
        var trace = await telemetry.WaitForAsync(
            received =>
            {
                var spans = received.Spans.Where(span => span.TraceId == send.TraceId).ToList();
                return spans.Count(span => span.Kind == SpanKind.Consumer) >= YacAppFixture.DefaultGatewayReplicas
                    && spans.Any(span => span.Kind == SpanKind.Producer && span.Service == "chat") ? spans : null;
            },
            "ChatService's publish and a receive on each replica in the send's trace", s_exportTimeout, timeout.Token);
        var byId = trace.ToDictionary(span => span.SpanId);
        output.WriteLine(string.Join(Environment.NewLine, trace.Select(span =>
            $"{span.Service}/{span.Instance} {span.Kind} '{span.Name}' {span.SpanId} <- {(byId.TryGetValue(span.ParentSpanId, out var parent) ? parent.Name : span.ParentSpanId)}")));

        // The send crossed to ChatService in a batch request shared with other sockets' sends: its own
        // chat.send span continues the ws send span (traceparent in the batch), the request does not.
        var chatSend = Assert.Single(trace, span => span.Service == "chat" && span.Name == "chat.send");
        Assert.Equal(send.SpanId, chatSend.ParentSpanId);
        Assert.Equal(seq, chatSend.Attribute("yac.message.seq"));
        Assert.DoesNotContain(trace, span => span.Service == "chat" && span.Kind == SpanKind.Server);

        // The batch request is a trace of its own, linked to the send, with ChatService's request in it.
        var batch = await telemetry.WaitForAsync(
            received => received.Spans.FirstOrDefault(span => span.Service == Gateway && span.Name == "chat send batch"
                && span.Links.Contains((send.TraceId, send.SpanId))),
            "a 'chat send batch' span linked to the ws send span", s_exportTimeout, timeout.Token);
        var request = await telemetry.WaitForAsync(
            received => received.Spans.FirstOrDefault(span => span.TraceId == batch.TraceId && span.Service == "chat" && span.Kind == SpanKind.Server),
            "ChatService's request in the batch's trace", s_exportTimeout, timeout.Token);
        Assert.Equal("POST", request.Attribute("http.request.method"));
        Assert.Equal("/internal/messages/batch", request.Attribute("http.route"));

        var publish = Assert.Single(trace, span => span.Service == "chat" && span.Kind == SpanKind.Producer);
        Assert.Equal("publish chat.change", publish.Name);
        Assert.Equal(chatSend.SpanId, publish.ParentSpanId);
        Assert.Equal($"yac:chat:{chat}", publish.Attribute("messaging.destination.name"));

        var receives = trace.Where(span => span.Kind == SpanKind.Consumer).ToList();
        Assert.Equal(YacAppFixture.DefaultGatewayReplicas, receives.Count);
        Assert.All(receives, receive =>
        {
            Assert.Equal(Gateway, receive.Service);
            Assert.Equal(publish.SpanId, receive.ParentSpanId);
            Assert.Equal("redis", receive.Attribute("messaging.system"));
        });
        Assert.Equal(YacAppFixture.DefaultGatewayReplicas, receives.Select(receive => receive.Instance).Distinct().Count());
        Assert.All(writes, write =>
        {
            var receive = Assert.Single(receives, receive => receive.SpanId == write.ParentSpanId);
            Assert.Equal(receive.Instance, write.Instance);
        });

        // The group commit that stored it serves many sends at once: its span links to this send.
        var commit = await telemetry.WaitForAsync(
            received => received.Spans.FirstOrDefault(span => span.Service == "chat" && span.Name == "chat.commit"
                && span.Links.Contains((send.TraceId, chatSend.SpanId))),
            "a chat.commit span linked to the message's chat.send span", s_exportTimeout, timeout.Token);
        Assert.NotEqual(send.TraceId, commit.TraceId);
    }

    [Fact]
    public async Task GatewayMetersCountSocketsFramesDeliveriesLatencyAndSlowConsumerCloses()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var telemetry = fixture.Telemetry;
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var sloth = await fixture.RegisterAndLoginAsync("sloth", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob, sloth], timeout.Token);
        var before = Snapshot(telemetry);

        var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        var openWithOurs = await WaitForTotalAsync(telemetry, "yac.gateway.sockets.open", atLeast: 2, timeout.Token);

        const int Messages = 3;
        for (var i = 1; i <= Messages; i++)
        {
            await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId = $"m{i}", text = $"counted {i}" }, timeout.Token);
        }

        await GatewayDeliveryTests.MessagesAsync(bobSocket, chatId, Messages, timeout.Token);
        await GatewayDeliveryTests.MessagesAsync(aliceSocket, chatId, Messages, timeout.Token, acks: []);
        await aliceSocket.FramesUntilPongAsync(timeout.Token);

        // Frames in (by type) and out, live deliveries (3 messages to 2 sockets) and their latency.
        await WaitForTotalAsync(telemetry, "yac.gateway.frames.received", before.SendFrames + Messages, timeout.Token,
            point => point.Attributes.GetValueOrDefault("type") == "send");
        await WaitForTotalAsync(telemetry, "yac.gateway.frames.received", before.PingFrames + 1, timeout.Token,
            point => point.Attributes.GetValueOrDefault("type") == "ping");
        // Per socket at least: hello, the messages; the sender also gets acks and a pong.
        await WaitForTotalAsync(telemetry, "yac.gateway.frames.sent", before.FramesSent + (2 * (1 + Messages)) + Messages + 1, timeout.Token);
        await WaitForTotalAsync(telemetry, "yac.gateway.deliveries", before.Deliveries + (2 * Messages), timeout.Token);
        var latency = await telemetry.WaitForAsync(
            received =>
            {
                var points = received.Metrics.Where(point => point.Service == Gateway && point.Name == "yac.gateway.delivery.latency").ToList();
                return points.Sum(point => (double)point.Count) >= before.LatencyCount + (2 * Messages) ? points : null;
            },
            "yac.gateway.delivery.latency counting the deliveries", s_exportTimeout, timeout.Token);
        var meanMilliseconds = latency.Sum(point => point.Value) / latency.Sum(point => (double)point.Count);
        Assert.InRange(meanMilliseconds, 0, 5_000);

        // Sockets closing show too.
        await aliceSocket.DisposeAsync();
        await bobSocket.DisposeAsync();
        await WaitForAsync(telemetry, "yac.gateway.sockets.open dropping by the 2 closed sockets",
            received => received.Total(Gateway, "yac.gateway.sockets.open") <= openWithOurs - 2, timeout.Token);

        // A client that reads nothing while messages flow is closed with 1013, and counted.
        await using var slowClient = await TestWebSocket.ConnectAsync(first, sloth.AccessToken, timeout.Token, readFrames: false, receiveBufferBytes: 4096);
        using var http = fixture.CreateClient("chat", alice);
        var text = new string('z', 4000);
        var flooded = 0;
        while (telemetry.Total(Gateway, "yac.gateway.slow_consumer.closes") <= before.SlowConsumerCloses)
        {
            Assert.True(flooded < 20_000, $"no slow-consumer close counted after {flooded} messages");
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => http.SendOverRestAsync(chatId, text, timeout.Token)));
            flooded += 50;
        }

        output.WriteLine($"slow consumer counted after {flooded} messages of {text.Length} characters");
        slowClient.StartReading();
        Assert.Equal((WebSocketCloseStatus)1013, await slowClient.WaitForCloseAsync(timeout.Token, TimeSpan.FromSeconds(60)));
    }

    private sealed record MeterSnapshot(double SendFrames, double PingFrames, double FramesSent, double Deliveries, double LatencyCount, double SlowConsumerCloses);

    private static MeterSnapshot Snapshot(OtlpReceiver telemetry) => new(
        telemetry.Total(Gateway, "yac.gateway.frames.received", point => point.Attributes.GetValueOrDefault("type") == "send"),
        telemetry.Total(Gateway, "yac.gateway.frames.received", point => point.Attributes.GetValueOrDefault("type") == "ping"),
        telemetry.Total(Gateway, "yac.gateway.frames.sent"),
        telemetry.Total(Gateway, "yac.gateway.deliveries"),
        telemetry.Metrics.Where(point => point.Service == Gateway && point.Name == "yac.gateway.delivery.latency").Sum(point => (double)point.Count),
        telemetry.Total(Gateway, "yac.gateway.slow_consumer.closes"));

    private static async Task<double> WaitForTotalAsync(
        OtlpReceiver telemetry, string metric, double atLeast, CancellationToken cancellationToken, Func<ReceivedMetric, bool>? where = null)
    {
        var total = await telemetry.WaitForAsync(
            received => received.Total(Gateway, metric, where) is var value && value >= atLeast ? (object)value : null,
            $"{metric} reaching {atLeast}", s_exportTimeout, cancellationToken);
        return (double)total;
    }

    private static Task<string> WaitForAsync(OtlpReceiver telemetry, string what, Func<OtlpReceiver, bool> condition, CancellationToken cancellationToken) =>
        telemetry.WaitForAsync(received => condition(received) ? what : null, what, s_exportTimeout, cancellationToken);
}
