using System.Text.Json;
using Yac.Contracts;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayRobustnessTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "memberJoined"];

    [Fact]
    public async Task MalformedEventsOnAChatsRedisChannelAreLoggedAndSkippedAndDeliveryGoesOnInOrderOnBothReplicas()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var scene = await fixture.StartTwoReplicaChatAsync(timeout.Token);
        var (first, second, alice, bob, chatId, aliceSocket, bobSocket) = scene;
        Assert.NotEqual(aliceSocket.GatewayId, bobSocket.GatewayId);

        var channel = Channels.Chat(chatId);
        // Several would pass for the chat's next message (seq 1) if the gateway took them at face value.
        var garbage = new[]
        {
            "this is not JSON {",
            "[1, 2, 3]",
            """{"hello": "world"}""",
            Envelope(99, EventTypes.MessageCreated, FakeMessage(chatId, alice.Id, seq: 1)),
            Envelope(1, "chat.exploded", new { chatId }),
            Envelope(1, EventTypes.MessageCreated, "not an object"),
            Envelope(1, EventTypes.MessageCreated, data: null),
            """{"v": 1, "type": "message.created"}""",
            Envelope(1, EventTypes.MessageCreated, Without(FakeMessage(chatId, alice.Id, seq: 1), "text")),
            Envelope(1, EventTypes.MessageCreated, Without(FakeMessage(chatId, alice.Id, seq: 1), "clientMsgId")),
            Envelope(1, EventTypes.MessageCreated, Without(FakeMessage(chatId, alice.Id, seq: 1), "id")),
            Envelope(1, EventTypes.MessageCreated, Without(FakeMessage(chatId, alice.Id, seq: 1), "seq")),
            Envelope(1, EventTypes.MessageCreated, new Dictionary<string, object?>(FakeMessage(chatId, alice.Id, seq: 1)) { ["seq"] = "one" }),
            Envelope(1, EventTypes.ReadUpdated, new { chatId }),
        };
        Assert.True(await fixture.PublishRawAsync(channel, garbage) >= 2, "both replicas are subscribed to the chat's channel");

        string[] texts = ["after the garbage 1", "after the garbage 2", "after the garbage 3"];
        for (var i = 0; i < texts.Length; i++)
        {
            await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId = $"real-{i + 1}", text = texts[i] }, timeout.Token);
        }

        foreach (var socket in new[] { aliceSocket, bobSocket })
        {
            var messages = new List<JsonElement>();
            while (messages.Count < texts.Length)
            {
                var frame = await socket.NextSkippingAsync("message", ["ack", .. s_noise], timeout.Token);
                messages.Add(frame);
            }

            Assert.Equal([1L, 2L, 3L], messages.Select(message => message.Seq()));
            Assert.Equal(texts, messages.Select(message => message.GetProperty("text").GetString()));
            Assert.All(messages, message => Assert.Equal(alice.Id, message.GetProperty("senderId").GetGuid()));
            Assert.DoesNotContain(await socket.FramesUntilPongAsync(timeout.Token), frame => frame.Type() == "message");
            Assert.False(socket.Closed.IsCompleted);
        }

        // Each replica logged every event it skipped, naming the channel.
        var lines = await fixture.WaitForLogLinesAsync(
            "gateway", line => line.Contains("Skipped", StringComparison.Ordinal) && line.Contains(channel, StringComparison.Ordinal),
            count: garbage.Length * YacAppFixture.DefaultGatewayReplicas, timeout.Token);
        Assert.Equal(
            garbage.Length * YacAppFixture.DefaultGatewayReplicas,
            lines.Count(line => line.Contains("Skipped", StringComparison.Ordinal) && line.Contains(channel, StringComparison.Ordinal)));
    }

    private static Dictionary<string, object?> FakeMessage(Guid chatId, Guid senderId, long seq) => new()
    {
        ["chatId"] = chatId,
        ["seq"] = seq,
        ["id"] = Guid.NewGuid(),
        ["senderId"] = senderId,
        ["text"] = "forged",
        ["sentAt"] = DateTimeOffset.UtcNow,
        ["clientMsgId"] = "forged",
    };

    private static Dictionary<string, object?> Without(Dictionary<string, object?> data, string field)
    {
        data.Remove(field);
        return data;
    }

    private static string Envelope(int version, string type, object? data) =>
        JsonSerializer.Serialize(new { v = version, type, traceParent = (string?)null, traceState = (string?)null, data });
}
