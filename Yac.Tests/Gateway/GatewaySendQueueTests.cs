using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// A socket's <c>send</c> frames wait for ChatService in a queue of their own, never on the socket's
/// frame reading: the socket stays responsive while ChatService is slow, its sends commit in the
/// order sent, and a flood beyond the queue is refused with <c>rate_limited</c>.
/// </summary>
[Collection(YacAppCollection.Name)]
public sealed class GatewaySendQueueTests(YacAppFixture fixture)
{
    /// <summary>The gateway's defaults (<c>Yac:Gateway</c>): the send rate limit's burst, and the sends one socket may have waiting.</summary>
    private const int SendBurst = 100;
    private const int MaxQueuedChatCalls = 100;

    private static readonly string[] s_noise = ["presence", "memberJoined", "message"];

    [Fact]
    public async Task PingAndTypingAreAnsweredWhileTheSocketsSendsWaitForAStalledChatServiceAndTheSendsAreAckedInOrderOnceItIsBack()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var scene = await fixture.StartTwoReplicaChatAsync(timeout.Token);
        var (first, second, alice, bob, chatId, aliceSocket, bobSocket) = scene;
        string[] clientMsgIds = ["stalled-1", "stalled-2", "stalled-3"];

        await using (await ChatCommitStall.StartAsync(fixture, chatId, timeout.Token))
        {
            foreach (var clientMsgId in clientMsgIds)
            {
                await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId, text = $"sent while the chat service is stalled: {clientMsgId}" }, timeout.Token);
            }

            // ChatService cannot commit them yet, and the socket answers its ping meanwhile: the pong
            // comes before any answer to the sends sent before it.
            var beforePong = await aliceSocket.FramesUntilPongAsync(timeout.Token);
            Assert.DoesNotContain(beforePong, frame => frame.Type() is "ack" or "error");

            await aliceSocket.SendAsync(new { type = "typing", chatId }, timeout.Token);
            var typing = await bobSocket.NextWhereAsync(frame => frame.Type() == "typing", timeout.Token);
            Assert.Equal(alice.Id, typing.GetProperty("userId").GetGuid());
            Assert.DoesNotContain(await aliceSocket.FramesUntilPongAsync(timeout.Token), frame => frame.Type() is "ack" or "error");
        }

        // ChatService is back: the queued sends commit and are acked in the order sent.
        var acks = await NextAnswersAsync(aliceSocket, clientMsgIds.Length, timeout.Token);
        Assert.All(acks, ack => Assert.Equal("ack", ack.Type()));
        Assert.Equal(clientMsgIds, acks.Select(ClientMsgId));
        Assert.Equal(new long[] { 1, 2, 3 }, acks.Select(GatewayScenario.Seq));

        var delivered = await GatewayDeliveryTests.MessagesAsync(bobSocket, chatId, clientMsgIds.Length, timeout.Token);
        Assert.Equal(clientMsgIds, delivered.Select(ClientMsgId));
    }

    [Fact]
    public async Task FiftySendsFiredBackToBackFromOneSocketAreAllAckedAndDeliveredToAnotherMemberInTheOrderSent()
    {
        const int count = 50;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var scene = await fixture.StartTwoReplicaChatAsync(timeout.Token);
        var (first, second, alice, bob, chatId, aliceSocket, bobSocket) = scene;

        var clientMsgIds = Enumerable.Range(1, count).Select(i => $"back-to-back-{i:D2}").ToList();
        foreach (var clientMsgId in clientMsgIds)
        {
            // Without waiting for any answer.
            await aliceSocket.SendAsync(new { type = "send", chatId, clientMsgId, text = $"message {clientMsgId}" }, timeout.Token);
        }

        var acks = await NextAnswersAsync(aliceSocket, count, timeout.Token);
        Assert.All(acks, ack => Assert.True(ack.Type() == "ack", ack.GetRawText()));
        Assert.Equal(clientMsgIds, acks.Select(ClientMsgId));
        // Nobody else writes in this chat: the sends took seqs 1..50 in the order sent.
        Assert.Equal(Enumerable.Range(1, count).Select(seq => (long)seq), acks.Select(GatewayScenario.Seq));

        var delivered = await GatewayDeliveryTests.MessagesAsync(bobSocket, chatId, count, timeout.Token);
        Assert.Equal(clientMsgIds, delivered.Select(ClientMsgId));
        Assert.Equal(acks.Select(GatewayScenario.Seq), delivered.Select(GatewayScenario.Seq));
    }

    [Fact]
    public async Task SendsBeyondTheQueueWhileChatServiceIsStalledAreRefusedWithRateLimitedAtOnceAndTheQueuedOnesCommitInOrder()
    {
        const int paced = 30;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        var clientMsgIds = Enumerable.Range(1, SendBurst + paced).Select(i => $"flood-{i:D3}").ToList();
        // ChatService takes the first one and holds it; MaxQueuedChatCalls more wait in the socket's queue.
        var accepted = MaxQueuedChatCalls + 1;
        List<string> refusedIds;

        await using (await ChatCommitStall.StartAsync(fixture, chatId, timeout.Token))
        {
            for (var i = 0; i < clientMsgIds.Count; i++)
            {
                if (i >= SendBurst)
                {
                    // Past the rate limit's burst, a pace the limit allows (40 per second against its 50):
                    // what refuses these sends is the full queue, not the rate limit.
                    await Task.Delay(TimeSpan.FromMilliseconds(25), timeout.Token);
                }

                await socket.SendAsync(new { type = "send", chatId, clientMsgId = clientMsgIds[i], text = $"flood {i}" }, timeout.Token);
            }

            // Answered while ChatService is still stalled: the sends beyond the queue are not kept waiting.
            var refused = await NextAnswersAsync(socket, clientMsgIds.Count - accepted, timeout.Token);
            Assert.All(refused, error => Assert.Equal("rate_limited", error.GetProperty("code").GetString()));
            refusedIds = [.. refused.Select(error => error.GetProperty("ref").GetString()!)];
            // Normally the last ones; which exactly depends on when ChatService took the first send.
            Assert.Equal(refusedIds.Count, refusedIds.Intersect(clientMsgIds[SendBurst..]).Count());
        }

        var acks = await NextAnswersAsync(socket, accepted, timeout.Token);
        Assert.All(acks, ack => Assert.True(ack.Type() == "ack", ack.GetRawText()));
        Assert.Equal(clientMsgIds.Except(refusedIds), acks.Select(ClientMsgId));
        Assert.Equal(Enumerable.Range(1, accepted).Select(seq => (long)seq), acks.Select(GatewayScenario.Seq));

        // A refused send was not stored: sent again with the same clientMsgId, it takes the next seq.
        await socket.SendAsync(new { type = "send", chatId, clientMsgId = refusedIds[0], text = "again" }, timeout.Token);
        var retried = (await NextAnswersAsync(socket, 1, timeout.Token))[0];
        Assert.Equal("ack", retried.Type());
        Assert.Equal(refusedIds[0], ClientMsgId(retried));
        Assert.Equal(accepted + 1, retried.Seq());
    }

    private static string ClientMsgId(JsonElement frame) => frame.GetProperty("clientMsgId").GetString()!;

    /// <summary>The next <paramref name="count"/> answers to sends (<c>ack</c> or <c>error</c>), skipping pushed frames.</summary>
    private static async Task<List<JsonElement>> NextAnswersAsync(TestWebSocket socket, int count, CancellationToken cancellationToken)
    {
        var answers = new List<JsonElement>(count);
        while (answers.Count < count)
        {
            var frame = await socket.NextAsync(cancellationToken);
            if (frame.Type() is "ack" or "error")
            {
                answers.Add(frame);
            }
            else
            {
                Assert.Contains(frame.Type(), s_noise);
            }
        }

        return answers;
    }
}
