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
        // Several would pass for the chat's next change (rev 3: revs 1 and 2 are the members joining at
        // creation) if the gateway took them at face value.
        var garbage = new[]
        {
            "this is not JSON {",
            "[1, 2, 3]",
            """{"hello": "world"}""",
            Envelope(99, EventTypes.ChatChange, FakeChange(chatId, alice.Id, rev: 3)),
            Envelope(1, "chat.exploded", new { chatId }),
            Envelope(1, "message.created", new { chatId, seq = 1 }),
            Envelope(1, EventTypes.ChatChange, "not an object"),
            Envelope(1, EventTypes.ChatChange, data: null),
            """{"v": 1, "type": "chat.change"}""",
            Envelope(1, EventTypes.ChatChange, Without(FakeChange(chatId, alice.Id, rev: 3), "frame")),
            Envelope(1, EventTypes.ChatChange, Without(FakeChange(chatId, alice.Id, rev: 3), "rev")),
            Envelope(1, EventTypes.ChatChange, FakeChange(chatId, alice.Id, rev: 3, frameRev: 4)),
            Envelope(1, EventTypes.ChatChange, FakeChange(chatId, alice.Id, rev: 3, frameSeq: null)),
            Envelope(1, EventTypes.ChatChange, new Dictionary<string, object?>(FakeChange(chatId, alice.Id, rev: 3)) { ["rev"] = "three" }),
            Envelope(1, EventTypes.ChatChange, new Dictionary<string, object?>(FakeChange(chatId, alice.Id, rev: 3)) { ["type"] = "memberJoined" }),
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
            Assert.Equal([3L, 4L, 5L], messages.Select(message => message.GetProperty("rev").GetInt64()));
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

    /// <summary>A forged chat.change of a message; <paramref name="frameRev"/> and <paramref name="frameSeq"/> make the frame disagree.</summary>
    private static Dictionary<string, object?> FakeChange(Guid chatId, Guid senderId, long rev, long? frameRev = null, long? frameSeq = 1)
    {
        var frame = new Dictionary<string, object?>
        {
            ["type"] = "message",
            ["rev"] = frameRev ?? rev,
            ["chatId"] = chatId,
            ["id"] = Guid.NewGuid(),
            ["senderId"] = senderId,
            ["text"] = "forged",
            ["sentAt"] = DateTimeOffset.UtcNow,
            ["clientMsgId"] = "forged",
        };
        if (frameSeq is { } seq)
        {
            frame["seq"] = seq;
        }

        return new Dictionary<string, object?>
        {
            ["chatId"] = chatId,
            ["rev"] = rev,
            ["type"] = "message",
            ["seq"] = 1,
            ["frame"] = frame,
        };
    }

    private static Dictionary<string, object?> Without(Dictionary<string, object?> data, string field)
    {
        data.Remove(field);
        return data;
    }

    private static string Envelope(int version, string type, object? data) =>
        JsonSerializer.Serialize(new { v = version, type, traceParent = (string?)null, traceState = (string?)null, data });
}
