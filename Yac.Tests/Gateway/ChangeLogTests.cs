using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// The chat's change log as a client sees it: <c>resume</c> by seq (v1) and by rev (v1.1),
/// <c>GET .../changes</c>, and membership changes racing a socket's connect.
/// </summary>
[Collection(YacAppCollection.Name)]
public sealed class ChangeLogTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "ack", "read", "typing"];

    [Fact]
    public async Task ResumeBySeqAfterALiveMessageReplaysEveryEarlierMessageThenResumed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        for (var seq = 1; seq <= 30; seq++)
        {
            await aliceHttp.SendOverRestAsync(chatId, $"m{seq}", timeout.Token);
        }

        // Bob connects; a live message (seq 31) reaches him; then he asks for everything after seq 10.
        await using var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        await aliceHttp.SendOverRestAsync(chatId, "m31", timeout.Token);
        var live = await bobSocket.NextSkippingAsync("message", s_noise, timeout.Token);
        Assert.Equal(31, live.Seq());

        await bobSocket.SendAsync(new { type = "resume", chats = new Dictionary<string, long> { [chatId.ToString()] = 10 } }, timeout.Token);
        var frames = await FramesUntilAsync(bobSocket, "resumed", timeout.Token);

        var seqs = frames.Where(frame => frame.Type() == "message").Select(frame => frame.Seq()).ToList();
        // 11..30, then 31 at most once more: every message after seq 10, in order.
        Assert.Equal(Enumerable.Range(11, 20).Select(seq => (long)seq), seqs.Take(20));
        Assert.True(seqs.Count is 20 or 21 && (seqs.Count == 20 || seqs[20] == 31), $"replayed seqs: {string.Join(",", seqs)}");
        var resumed = frames[^1];
        Assert.Equal(31, resumed.GetProperty("chats").GetProperty(chatId.ToString()).GetInt64());

        // And live again afterwards, without a duplicate.
        await aliceHttp.SendOverRestAsync(chatId, "m32", timeout.Token);
        Assert.Equal(32, (await bobSocket.NextSkippingAsync("message", s_noise, timeout.Token)).Seq());
    }

    [Fact]
    public async Task ResumeByRevReplaysEveryChangeAfterItInRevOrderAndChangesAnswersTheSame()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var carol = await fixture.RegisterAndLoginAsync("carol", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);

        await using (var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token))
        {
            await aliceHttp.SendOverRestAsync(chatId, "seen", timeout.Token);
            var seen = await bobSocket.NextSkippingAsync("message", s_noise, timeout.Token);
            Assert.Equal(3, seen.GetProperty("rev").GetInt64()); // revs 1, 2: alice and bob joining at creation
        }

        // While Bob is away: two messages, Carol joins, one more message, Carol leaves.
        await aliceHttp.SendOverRestAsync(chatId, "away 1", timeout.Token);
        await aliceHttp.SendOverRestAsync(chatId, "away 2", timeout.Token);
        await fixture.AddMemberAsync(alice, chatId, carol, timeout.Token);
        await aliceHttp.SendOverRestAsync(chatId, "away 3", timeout.Token);
        await fixture.LeaveAsync(carol, chatId, timeout.Token);

        await using var bobAgain = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);
        await bobAgain.SendAsync(new { type = "resume", revs = new Dictionary<string, long> { [chatId.ToString()] = 3 } }, timeout.Token);
        var frames = await FramesUntilAsync(bobAgain, "resumed", timeout.Token);
        var changes = frames.Where(frame => frame.TryGetProperty("rev", out _)).ToList();

        Assert.Equal([4L, 5L, 6L, 7L, 8L], changes.Select(change => change.GetProperty("rev").GetInt64()));
        Assert.Equal(["message", "message", "memberJoined", "message", "memberLeft"], changes.Select(change => change.Type()));
        Assert.Equal(carol.Id, changes[2].GetProperty("userId").GetGuid());
        Assert.Equal(8, frames[^1].GetProperty("revs").GetProperty(chatId.ToString()).GetInt64());

        // GET /changes returns the very same objects.
        using var bobHttp = fixture.CreateClient("gateway", bob);
        var page = await bobHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/changes?afterRev=3", timeout.Token);
        Assert.False(page.GetProperty("hasMore").GetBoolean());
        Assert.Equal(changes.Select(change => change.GetRawText()), page.GetProperty("changes").EnumerateArray().Select(change => change.GetRawText()));

        // Paging, and the chat's rev on the chat itself.
        var firstTwo = await bobHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/changes?afterRev=3&limit=2", timeout.Token);
        Assert.True(firstTwo.GetProperty("hasMore").GetBoolean());
        Assert.Equal([4L, 5L], firstTwo.GetProperty("changes").EnumerateArray().Select(change => change.GetProperty("rev").GetInt64()));
        var chat = await bobHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}", timeout.Token);
        Assert.Equal(8, chat.GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task AResumeSentRightAfterHelloReplaysWhatWasMissedBeforeAChangeCommittedSinceTheConnect()
    {
        // A change committed between Bob's hello and his resume must not reach him ahead of the ones
        // the resume replays (it would be a gap, then a duplicate): a new socket's chats wait for its
        // resume (GatewayOptions.ResumeWindow, 500 ms). A round whose resume went out later than that
        // proves nothing and is run again.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        // Alice's socket is open before each round's chat exists: it is in it live from its creation on.
        await using var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);
        var conclusive = 0;
        for (var round = 0; round < 5 && conclusive < 2; round++)
        {
            var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
            for (var i = 0; i < 3; i++)
            {
                await aliceHttp.SendOverRestAsync(chatId, $"missed {i}", timeout.Token); // revs 3, 4, 5 (1, 2: the joins)
            }

            await using var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
            var sinceHello = System.Diagnostics.Stopwatch.StartNew();
            await aliceHttp.SendOverRestAsync(chatId, "after the connect", timeout.Token); // rev 6
            // Alice's socket has it, so the replica that holds Bob's has it too.
            await aliceSocket.NextWhereAsync(
                frame => frame.Type() == "message" && frame.GetProperty("chatId").GetGuid() == chatId && frame.GetProperty("rev").GetInt64() == 6, timeout.Token);

            await bobSocket.SendAsync(new { type = "resume", revs = new Dictionary<string, long> { [chatId.ToString()] = 2 } }, timeout.Token);
            var inTime = sinceHello.Elapsed < TimeSpan.FromMilliseconds(400);
            var frames = await FramesUntilAsync(bobSocket, "resumed", timeout.Token);
            var revs = frames.Where(frame => frame.TryGetProperty("rev", out _)).Select(frame => frame.GetProperty("rev").GetInt64()).ToList();
            if (!inTime)
            {
                continue;
            }

            conclusive++;
            Assert.Equal([3L, 4L, 5L, 6L], revs);
            Assert.Equal(6, frames[^1].GetProperty("revs").GetProperty(chatId.ToString()).GetInt64());
            // Live afterwards, once.
            await aliceHttp.SendOverRestAsync(chatId, "live", timeout.Token);
            Assert.Equal(7, (await bobSocket.NextSkippingAsync("message", s_noise, timeout.Token)).GetProperty("rev").GetInt64());
        }

        Assert.True(conclusive > 0, "no round sent its resume within 400 ms of hello: the machine is too loaded for this test to tell");
    }

    [Fact]
    public async Task ASocketThatDoesNotResumeGetsWhatArrivedDuringItsResumeWindowInOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        await using var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        for (var i = 0; i < 5; i++)
        {
            await aliceHttp.SendOverRestAsync(chatId, $"m{i}", timeout.Token);
        }

        var revs = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            revs.Add((await bobSocket.NextSkippingAsync("message", s_noise, timeout.Token)).GetProperty("rev").GetInt64());
        }

        Assert.Equal([3L, 4L, 5L, 6L, 7L], revs);

        // A socket's first send ends its window: its own message comes back, in order after the rest.
        await using var bobElsewhere = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);
        await bobElsewhere.SendAsync(new { type = "send", chatId, clientMsgId = "right-away", text = "hi" }, timeout.Token);
        var own = await bobElsewhere.NextSkippingAsync("message", [.. s_noise], timeout.Token);
        Assert.Equal(8, own.GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task ChangesAreOnlyForMembersAndCheckTheirCursor()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var mallory = await fixture.RegisterAndLoginAsync("mallory", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        using var malloryHttp = fixture.CreateClient("gateway", mallory);

        using var notMember = await malloryHttp.GetAsync($"/api/chats/{chatId}/changes?afterRev=0", timeout.Token);
        Assert.Equal(HttpStatusCode.NotFound, notMember.StatusCode);
        foreach (var query in new[] { "afterRev=-1", "limit=0", "limit=501", "afterRev=1&afterSeq=1" })
        {
            using var bad = await aliceHttp.GetAsync($"/api/chats/{chatId}/changes?{query}", timeout.Token);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
    }

    [Fact]
    public async Task AMemberRemovedRightAfterConnectingNeverGetsAMessageAfterMemberLeft()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        for (var round = 0; round < 50; round++)
        {
            var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
            var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
            var connecting = TestWebSocket.ConnectAsync(round % 2 == 0 ? first : second, bob.AccessToken, timeout.Token);
            await Task.Delay(20 + (round * 37 % 80), timeout.Token);
            using (var remove = await aliceHttp.DeleteAsync($"/api/chats/{chatId}/members/{bob.Id}", timeout.Token))
            {
                Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
            }

            await using var bobSocket = await connecting;
            await aliceHttp.SendOverRestAsync(chatId, "after the removal", timeout.Token);

            // Whatever Bob's socket saw of the chat before it, nothing of it comes after his memberLeft.
            var left = false;
            foreach (var frame in await bobSocket.FramesUntilPongAsync(timeout.Token))
            {
                if (!frame.TryGetProperty("chatId", out var chat) || chat.GetGuid() != chatId)
                {
                    continue;
                }

                Assert.False(left, $"round {round}: a {frame.Type()} after memberLeft");
                Assert.NotEqual("message", frame.Type());
                left |= frame.Type() == "memberLeft";
            }
        }
    }

    [Fact]
    public async Task AMemberAddedRightAfterConnectingGetsEveryMessageAfterMemberJoined()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        for (var round = 0; round < 50; round++)
        {
            var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
            var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
            var connecting = TestWebSocket.ConnectAsync(round % 2 == 0 ? first : second, bob.AccessToken, timeout.Token);
            await Task.Delay(20 + (round * 37 % 80), timeout.Token);
            await fixture.AddMemberAsync(alice, chatId, bob, timeout.Token);
            await using var bobSocket = await connecting;
            var seq = await aliceHttp.SendOverRestAsync(chatId, "after the join", timeout.Token);

            // The message always arrives; a memberJoined too when the socket was open before the join.
            var frames = new List<JsonElement>();
            while (frames.Count == 0 || frames[^1].Type() != "message")
            {
                frames.Add(await bobSocket.NextWhereAsync(
                    frame => frame.Type() is "message" or "memberJoined" && frame.GetProperty("chatId").GetGuid() == chatId, timeout.Token, TimeSpan.FromSeconds(10)));
            }

            Assert.Equal(seq, frames[^1].Seq());
            Assert.True(frames.Count <= 2, $"round {round}: {string.Join(", ", frames.Select(frame => frame.Type()))}");
            if (frames.Count == 2)
            {
                Assert.Equal(bob.Id, frames[0].GetProperty("userId").GetGuid());
                Assert.Equal(frames[0].GetProperty("rev").GetInt64() + 1, frames[1].GetProperty("rev").GetInt64());
            }
        }
    }

    /// <summary>Every frame up to and including the first of <paramref name="type"/>, noise left out.</summary>
    private static async Task<List<JsonElement>> FramesUntilAsync(TestWebSocket socket, string type, CancellationToken cancellationToken)
    {
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await socket.NextAsync(cancellationToken);
            if (s_noise.Contains(frame.Type()))
            {
                continue;
            }

            frames.Add(frame);
            if (frame.Type() == type)
            {
                return frames;
            }
        }
    }
}
