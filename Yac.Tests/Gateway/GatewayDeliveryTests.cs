using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayDeliveryTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "memberJoined", "read", "typing"];

    [Fact]
    public async Task MessageSentOnOneReplicaReachesEveryDeviceOfEveryMemberOnBothReplicasExactlyOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var scenario = await fixture.StartThreeDeviceChatAsync(timeout.Token);
        var (alice, chatId) = (scenario.Alice, scenario.ChatId);
        var (aliceLaptop, alicePhoneSocket, bobSocket) = (scenario.AliceLaptop, scenario.AlicePhone, scenario.BobSocket);

        Assert.NotEqual(aliceLaptop.GatewayId, alicePhoneSocket.GatewayId);
        Assert.Equal(alicePhoneSocket.GatewayId, bobSocket.GatewayId);
        Assert.Equal(alice.Id, aliceLaptop.Hello.GetProperty("userId").GetGuid());
        Assert.Equal(alice.DeviceId, aliceLaptop.Hello.GetProperty("deviceId").GetGuid());
        Assert.True(aliceLaptop.Hello.GetProperty("heartbeatSeconds").GetInt32() > 0);

        await aliceLaptop.SendAsync(new { type = "send", chatId, clientMsgId = "first", text = "hello both replicas" }, timeout.Token);
        await aliceLaptop.SendAsync(new { type = "send", chatId, clientMsgId = "second", text = "and again" }, timeout.Token);

        var acks = new List<JsonElement>();
        foreach (var socket in new[] { aliceLaptop, alicePhoneSocket, bobSocket })
        {
            var messages = await MessagesAsync(socket, chatId, count: 2, timeout.Token, socket == aliceLaptop ? acks : null);
            Assert.Equal([1L, 2L], messages.Select(message => message.Seq()));
            var firstMessage = messages[0];
            Assert.Equal("hello both replicas", firstMessage.GetProperty("text").GetString());
            Assert.Equal(alice.Id, firstMessage.GetProperty("senderId").GetGuid());
            Assert.Equal("first", firstMessage.GetProperty("clientMsgId").GetString());
            // Nothing more of this chat was queued: no duplicate of either message.
            var rest = await socket.FramesUntilPongAsync(timeout.Token);
            Assert.DoesNotContain(rest, frame => frame.Type() == "message");
            if (socket == aliceLaptop)
            {
                acks.AddRange(rest.Where(frame => frame.Type() == "ack"));
            }
        }

        // The sender's acks: after commit, with the stored message's id and seq. The contract orders
        // an ack against neither the message frames nor a pong, so the second may still be on its way;
        // whatever comes meanwhile may not be a third copy of a message.
        while (acks.Count < 2)
        {
            acks.Add(await aliceLaptop.NextWhereAsync(
                frame => frame.Type() != "message" ? frame.Type() == "ack" : throw new Xunit.Sdk.XunitException($"a message frame after both copies: {frame}"),
                timeout.Token));
        }

        Assert.Equal(["first", "second"], acks.Select(ack => ack.GetProperty("clientMsgId").GetString()));
        Assert.Equal([1L, 2L], acks.Select(ack => ack.Seq()));
        Assert.All(acks, ack => Assert.Equal(chatId, ack.GetProperty("chatId").GetGuid()));
        Assert.All(acks, ack => Assert.True(ack.TryGetProperty("messageId", out _) && ack.TryGetProperty("sentAt", out _)));
    }

    [Fact]
    public async Task UserAddedToAChatWhileConnectedGetsItsMessagesAndAfterLeavingGetsNone()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var sharedChat = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        var laterChat = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);

        await using var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        await using var bobSocket = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);

        await fixture.AddMemberAsync(alice, laterChat, bob, timeout.Token);
        var joined = await bobSocket.NextSkippingAsync("memberJoined", ["presence"], timeout.Token);
        Assert.Equal(laterChat, joined.GetProperty("chatId").GetGuid());
        Assert.Equal(bob.Id, joined.GetProperty("userId").GetGuid());

        await aliceHttp.SendOverRestAsync(laterChat, "welcome, bob", timeout.Token);
        var welcome = await bobSocket.NextSkippingAsync("message", ["presence"], timeout.Token);
        Assert.Equal(laterChat, welcome.GetProperty("chatId").GetGuid());
        Assert.Equal("welcome, bob", welcome.GetProperty("text").GetString());

        await fixture.LeaveAsync(bob, laterChat, timeout.Token);
        var left = await bobSocket.NextSkippingAsync("memberLeft", ["presence"], timeout.Token);
        Assert.Equal(laterChat, left.GetProperty("chatId").GetGuid());

        await aliceHttp.SendOverRestAsync(laterChat, "bob is gone", timeout.Token);
        // Alice sees it, so it went out; then a message in the chat bob is still in marks the end.
        await aliceSocket.NextWhereAsync(
            frame => frame.Type() == "message" && frame.GetProperty("text").GetString() == "bob is gone", timeout.Token);
        await aliceHttp.SendOverRestAsync(sharedChat, "still here?", timeout.Token);
        var next = await bobSocket.NextSkippingAsync("message", ["presence"], timeout.Token);
        Assert.Equal(sharedChat, next.GetProperty("chatId").GetGuid());
        Assert.DoesNotContain(await bobSocket.FramesUntilPongAsync(timeout.Token),
            frame => frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == laterChat);
    }

    [Fact]
    public async Task TypingReachesTheOtherMembersOnlyAndReadPositionsReachAllMembers()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        var seq = await aliceHttp.SendOverRestAsync(chatId, "read me", timeout.Token);

        await using var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        await using var bobSocket = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);

        await aliceSocket.SendAsync(new { type = "typing", chatId }, timeout.Token);
        var typing = await bobSocket.NextSkippingAsync("typing", ["presence"], timeout.Token);
        Assert.Equal(chatId, typing.GetProperty("chatId").GetGuid());
        Assert.Equal(alice.Id, typing.GetProperty("userId").GetGuid());

        await bobSocket.SendAsync(new { type = "read", chatId, seq }, timeout.Token);
        foreach (var socket in new[] { aliceSocket, bobSocket })
        {
            var read = await socket.NextSkippingAsync("read", ["presence"], timeout.Token);
            Assert.Equal(chatId, read.GetProperty("chatId").GetGuid());
            Assert.Equal(bob.Id, read.GetProperty("userId").GetGuid());
            Assert.Equal(seq, read.Seq());
        }

        // The typer's own sockets are not told that she is typing.
        Assert.DoesNotContain(await aliceSocket.FramesUntilPongAsync(timeout.Token), frame => frame.Type() == "typing");
    }

    internal static async Task<List<JsonElement>> MessagesAsync(
        TestWebSocket socket, Guid chatId, int count, CancellationToken cancellationToken, List<JsonElement>? acks = null)
    {
        var messages = new List<JsonElement>();
        while (messages.Count < count)
        {
            var frame = await socket.NextAsync(cancellationToken);
            if (frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == chatId)
            {
                messages.Add(frame);
            }
            else if (frame.Type() == "ack" && acks is not null)
            {
                acks.Add(frame);
            }
            else
            {
                Assert.Contains(frame.Type(), s_noise);
            }
        }

        return messages;
    }
}
