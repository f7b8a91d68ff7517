using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

[Collection(YacServicesAppCollection.Name)]
public sealed class MessagingTests(YacAppFixture fixture)
{
    [Fact]
    public async Task TwoHundredConcurrentSendsFromTenUsersThroughBothGatewaysGetSeqsOneToTwoHundred()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        var senders = await ChatUser.CreateManyAsync(fixture, 9, "sender");
        var everyone = (ChatUser[])[owner, .. senders];
        var chat = await owner.CreateGroupAsync("private", senders);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var replicas = await fixture.GetGatewayReplicaUrlsAsync(timeout.Token);
        // Each user sends through one replica's /api proxy; the users are split over both replicas.
        var clients = everyone.Select((user, index) => user.ClientFor(replicas[index % replicas.Count])).ToArray();

        var sends = Enumerable.Range(0, 200).Select(async index =>
        {
            using var response = await clients[index % clients.Length].PostAsJsonAsync(
                $"/api/chats/{chat.Id}/messages", new { clientMsgId = $"c{index}", text = $"message {index}" }, ChatUser.Json);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<MessageJson>(ChatUser.Json))!;
        });
        var acknowledged = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(Enumerable.Range(1, 200).Select(seq => (long)seq), acknowledged.Select(message => message.Seq).Order());
        var stored = await owner.GetHistoryAsync(chat.Id, "?limit=200");
        Assert.Equal(Enumerable.Range(1, 200).Select(seq => (long)seq), stored.Messages.Select(message => message.Seq));
        Assert.False(stored.HasMore);
        Assert.Equal(acknowledged.OrderBy(message => message.Seq), stored.Messages);
        Assert.Equal(200, (await owner.GetChatAsync(chat.Id)).LastSeq);
        foreach (var disposable in clients.Concat<IDisposable>(everyone))
        {
            disposable.Dispose();
        }
    }

    [Fact]
    public async Task TheSameClientMsgIdSentFiveTimesAtOnceIsStoredOnceAndAnsweredIdentically()
    {
        using var sender = await ChatUser.CreateAsync(fixture, "sender");
        var chat = await sender.CreateGroupAsync();
        var clientMsgId = $"retry-{Guid.NewGuid():N}";

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => sender.PostMessageAsync(chat.Id, clientMsgId, "only once")));
        var bodies = await Task.WhenAll(responses.Select(response => response.Content.ReadFromJsonAsync<MessageJson>(ChatUser.Json)));

        Assert.Single(responses, response => response.StatusCode == HttpStatusCode.Created);
        Assert.Equal(4, responses.Count(response => response.StatusCode == HttpStatusCode.OK));
        Assert.Single(bodies.Distinct());
        var message = bodies[0]!;
        Assert.Equal((1L, clientMsgId, "only once", sender.Id), (message.Seq, message.ClientMsgId, message.Text, message.SenderId));
        Assert.Equal([message], (await sender.GetHistoryAsync(chat.Id)).Messages);
        // The next message takes the next seq: the retries consumed none.
        Assert.Equal(2, (await sender.SendAsync(chat.Id, "next")).Seq);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task AClientMsgIdIsPerSenderAndPerChat()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        var first = await alice.CreateGroupAsync("private", bob);
        var second = await alice.CreateGroupAsync("private", bob);

        using var aliceFirst = await alice.PostMessageAsync(first.Id, "same", "from alice");
        using var bobFirst = await bob.PostMessageAsync(first.Id, "same", "from bob");
        using var aliceSecond = await alice.PostMessageAsync(second.Id, "same", "elsewhere");

        Assert.Equal(HttpStatusCode.Created, aliceFirst.StatusCode);
        Assert.Equal(HttpStatusCode.Created, bobFirst.StatusCode);
        Assert.Equal(HttpStatusCode.Created, aliceSecond.StatusCode);
        Assert.Equal(2, (await alice.GetHistoryAsync(first.Id)).Messages.Count);
    }

    [Fact]
    public async Task HistoryWalksForwardAndBackwardOverFiveHundredMessagesWithoutGapsOrOverlaps()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        var chat = await alice.CreateGroupAsync("private", bob);
        await Parallel.ForEachAsync(
            Enumerable.Range(1, 500),
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (index, _) => await (index % 2 == 0 ? alice : bob).SendAsync(chat.Id, $"message {index}"));
        var expected = Enumerable.Range(1, 500).Select(seq => (long)seq).ToList();

        var forward = new List<long>();
        long afterSeq = 0;
        for (var hasMore = true; hasMore;)
        {
            var page = await bob.GetHistoryAsync(chat.Id, $"?afterSeq={afterSeq}&limit=70");
            Assert.InRange(page.Messages.Count, 1, 70);
            forward.AddRange(page.Messages.Select(message => message.Seq));
            afterSeq = page.Messages[^1].Seq;
            hasMore = page.HasMore;
        }

        var backward = new List<long>();
        var newest = await bob.GetHistoryAsync(chat.Id);
        Assert.Equal(50, newest.Messages.Count);
        Assert.True(newest.HasMore);
        backward.InsertRange(0, newest.Messages.Select(message => message.Seq));
        for (var hasMore = newest.HasMore; hasMore;)
        {
            var page = await bob.GetHistoryAsync(chat.Id, $"?beforeSeq={backward[0]}&limit=200");
            backward.InsertRange(0, page.Messages.Select(message => message.Seq));
            hasMore = page.HasMore;
        }

        Assert.Equal(expected, forward);
        Assert.Equal(expected, backward);
        Assert.Equal(Enumerable.Range(451, 50).Select(seq => (long)seq), newest.Messages.Select(message => message.Seq));
        var between = await bob.GetHistoryAsync(chat.Id, "?afterSeq=100&beforeSeq=105");
        Assert.Equal([101L, 102, 103, 104], between.Messages.Select(message => message.Seq));
        Assert.False(between.HasMore);
        var pastTheEnd = await bob.GetHistoryAsync(chat.Id, "?afterSeq=500");
        Assert.Empty(pastTheEnd.Messages);
        Assert.False(pastTheEnd.HasMore);
    }

    [Fact]
    public async Task UnreadCountsFollowReadsAndNeverMoveBackwards()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        var chat = await alice.CreateGroupAsync("private", bob);
        for (var index = 1; index <= 5; index++)
        {
            await alice.SendAsync(chat.Id, $"message {index}");
        }

        var beforeReading = (await bob.ListChatsAsync()).Single(summary => summary.Id == chat.Id);
        Assert.Equal((5L, 0L, 5L), (beforeReading.LastSeq, beforeReading.LastReadSeq, beforeReading.UnreadCount));
        Assert.Equal("message 5", beforeReading.LastMessage?.Text);
        // Sending moves the sender's own read position: your own messages are not unread.
        Assert.Equal(0, (await alice.ListChatsAsync()).Single(summary => summary.Id == chat.Id).UnreadCount);

        using var readThree = await bob.PostReadAsync(chat.Id, 3);
        using var readOneLater = await bob.PostReadAsync(chat.Id, 1);
        Assert.Equal(HttpStatusCode.NoContent, readThree.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, readOneLater.StatusCode);
        var afterReading = (await bob.ListChatsAsync()).Single(summary => summary.Id == chat.Id);
        Assert.Equal((3L, 2L), (afterReading.LastReadSeq, afterReading.UnreadCount));

        using var readBeyondTheEnd = await bob.PostReadAsync(chat.Id, 1000);
        Assert.Equal(HttpStatusCode.NoContent, readBeyondTheEnd.StatusCode);
        var allRead = (await bob.ListChatsAsync()).Single(summary => summary.Id == chat.Id);
        Assert.Equal((5L, 0L), (allRead.LastReadSeq, allRead.UnreadCount));

        await alice.SendAsync(chat.Id, "one more");
        Assert.Equal(1, (await bob.ListChatsAsync()).Single(summary => summary.Id == chat.Id).UnreadCount);
    }

    [Fact]
    public async Task MyChatsListTheMostRecentlyActiveFirstWithTheirLastMessage()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var quiet = await alice.CreateGroupAsync();
        var busy = await alice.CreateGroupAsync();
        var fresh = await alice.CreateGroupAsync();
        await alice.SendAsync(quiet.Id, "first words");
        await alice.SendAsync(busy.Id, "latest words");

        var chats = await alice.ListChatsAsync();

        Assert.Equal([busy.Id, quiet.Id, fresh.Id], chats.Select(summary => summary.Id));
        Assert.Equal("latest words", chats[0].LastMessage?.Text);
        Assert.Equal(1, chats[0].LastMessage?.Seq);
        Assert.Null(chats[2].LastMessage);
        Assert.Equal((0L, 0L, 0L), (chats[2].LastSeq, chats[2].LastReadSeq, chats[2].UnreadCount));
    }

    [Fact]
    public async Task ASentMessageComesBackAsTheContractSaysAndIsInHistory()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();
        var clientMsgId = Guid.NewGuid().ToString();

        using var response = await alice.PostMessageAsync(chat.Id, clientMsgId, "héllo 👋");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var message = (await response.Content.ReadFromJsonAsync<MessageJson>(ChatUser.Json))!;
        Assert.Equal((chat.Id, 1L, alice.Id, "héllo 👋", clientMsgId), (message.ChatId, message.Seq, message.SenderId, message.Text, message.ClientMsgId));
        Assert.NotEqual(Guid.Empty, message.Id);
        Assert.InRange(message.SentAt, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
        var raw = await response.Content.ReadAsStringAsync();
        Assert.Matches("\"sentAt\":\"[0-9T:.-]+Z\"", raw);
        Assert.Equal([message], (await alice.GetHistoryAsync(chat.Id)).Messages);
    }
}
