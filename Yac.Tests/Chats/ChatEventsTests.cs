using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Aspire.Hosting.Testing;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

[Collection(YacAppCollection.Name)]
public sealed class ChatEventsTests(YacAppFixture fixture)
{
    private static readonly TimeSpan s_eventTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ACommittedMessageIsPublishedOnItsChatChannelWithTraceContext()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();
        await using var redis = await ConnectRedisAsync();
        var events = await SubscribeAsync(redis, Channels.Chat(chat.Id));

        // The caller's trace: the event must carry it on across the Redis hop.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chats/{chat.Id}/messages")
        {
            Content = JsonContent.Create(new { clientMsgId = "traced", text = "on the wire" }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await alice.Chat.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var sent = (await response.Content.ReadFromJsonAsync<MessageJson>(ChatUser.Json))!;

        var envelope = await NextOfTypeAsync(events, EventTypes.MessageCreated);
        Assert.Equal(EventEnvelope.CurrentVersion, envelope.V);
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", envelope.TraceParent);
        var created = envelope.Data.Deserialize(ContractsJsonContext.Default.MessageCreatedEvent)!;
        Assert.Equal(
            (sent.ChatId, sent.Seq, sent.Id, sent.SenderId, sent.Text, sent.ClientMsgId),
            (created.ChatId, created.Seq, created.Id, created.SenderId, created.Text, created.ClientMsgId));
        Assert.Equal(sent.SentAt, created.SentAt.UtcDateTime);
    }

    [Fact]
    public async Task MessagesOfOneChatArePublishedInSeqOrder()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        var chat = await alice.CreateGroupAsync("private", bob);
        await using var redis = await ConnectRedisAsync();
        var events = await SubscribeAsync(redis, Channels.Chat(chat.Id));

        await Task.WhenAll(Enumerable.Range(0, 50).Select(index => (index % 2 == 0 ? alice : bob).SendAsync(chat.Id, $"m{index}")));

        var seqs = new List<long>();
        while (seqs.Count < 50)
        {
            var envelope = await NextOfTypeAsync(events, EventTypes.MessageCreated);
            seqs.Add(envelope.Data.Deserialize(ContractsJsonContext.Default.MessageCreatedEvent)!.Seq);
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(seq => (long)seq), seqs);
    }

    [Fact]
    public async Task JoiningLeavingAndReadingArePublishedOnTheChatAndUserChannels()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var joiner = await ChatUser.CreateAsync(fixture, "joiner");
        var chat = await owner.CreateGroupAsync("public");
        await owner.SendAsync(chat.Id, "before the join");
        await using var redis = await ConnectRedisAsync();
        var chatEvents = await SubscribeAsync(redis, Channels.Chat(chat.Id));
        var joinerEvents = await SubscribeAsync(redis, Channels.User(joiner.Id));

        (await joiner.PutMemberAsync(chat.Id, joiner.Id)).Dispose();
        await joiner.SendAsync(chat.Id, "hi");
        (await owner.PostReadAsync(chat.Id, 2)).Dispose();
        (await joiner.DeleteMemberAsync(chat.Id, joiner.Id)).Dispose();

        var joined = (await NextOfTypeAsync(joinerEvents, EventTypes.MemberJoined)).Data.Deserialize(ContractsJsonContext.Default.MemberJoinedEvent)!;
        Assert.Equal((chat.Id, joiner.Id, 1L), (joined.ChatId, joined.UserId, joined.LastSeq));
        var left = (await NextOfTypeAsync(joinerEvents, EventTypes.MemberLeft)).Data.Deserialize(ContractsJsonContext.Default.MemberLeftEvent)!;
        Assert.Equal((chat.Id, joiner.Id), (left.ChatId, left.UserId));

        Assert.Equal(EventTypes.MemberJoined, (await NextAsync(chatEvents)).Type);
        Assert.Equal(EventTypes.MessageCreated, (await NextAsync(chatEvents)).Type);
        var read = (await NextOfTypeAsync(chatEvents, EventTypes.ReadUpdated)).Data.Deserialize(ContractsJsonContext.Default.ReadUpdatedEvent)!;
        Assert.Equal((chat.Id, owner.Id, 2L), (read.ChatId, read.UserId, read.Seq));
        Assert.Equal(EventTypes.MemberLeft, (await NextAsync(chatEvents)).Type);
    }

    [Fact]
    public async Task CreatingAChatTellsEveryInitialMemberOnTheirUserChannel()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        await using var redis = await ConnectRedisAsync();
        var aliceEvents = await SubscribeAsync(redis, Channels.User(alice.Id));
        var bobEvents = await SubscribeAsync(redis, Channels.User(bob.Id));

        var chat = await alice.CreateGroupAsync("private", bob);

        foreach (var (events, userId) in new[] { (aliceEvents, alice.Id), (bobEvents, bob.Id) })
        {
            var created = (await NextOfTypeAsync(events, EventTypes.ChatCreated)).Data.Deserialize(ContractsJsonContext.Default.ChatCreatedEvent)!;
            Assert.Equal((chat.Id, userId, 0L), (created.ChatId, created.UserId, created.LastSeq));
        }
    }

    [Fact]
    public async Task ASendIsCommittedAndAnsweredWhileRedisIsDownAndEventsFlowAgainAfter()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-stop", timeout.Token);
        MessageJson sentWhileDown;
        try
        {
            sentWhileDown = await alice.SendAsync(chat.Id, "while Redis is down").WaitAsync(s_eventTimeout);
        }
        finally
        {
            await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-start", timeout.Token);
        }

        Assert.Equal(1, sentWhileDown.Seq);
        Assert.Equal([sentWhileDown], (await alice.GetHistoryAsync(chat.Id)).Messages);

        // Once Redis is back, ChatService's connection recovers by itself: a later message is published.
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(fixture.RedisProcessName, timeout.Token);
        await using var redis = await ConnectRedisAsync();
        var events = await SubscribeAsync(redis, Channels.Chat(chat.Id));
        var published = false;
        while (!published)
        {
            timeout.Token.ThrowIfCancellationRequested();
            var sent = await alice.SendAsync(chat.Id, "after Redis came back");
            published = await ArrivesAsync(events, sent.Seq, TimeSpan.FromSeconds(10));
        }
    }

    private static async Task<bool> ArrivesAsync(ChannelReader<EventEnvelope> events, long seq, TimeSpan within)
    {
        using var limit = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var envelope = await events.ReadAsync(limit.Token);
                if (envelope.Type == EventTypes.MessageCreated
                    && envelope.Data.Deserialize(ContractsJsonContext.Default.MessageCreatedEvent)!.Seq == seq)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task<ConnectionMultiplexer> ConnectRedisAsync()
        => await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);

    private static async Task<ChannelReader<EventEnvelope>> SubscribeAsync(ConnectionMultiplexer redis, string channel)
    {
        var received = Channel.CreateUnbounded<EventEnvelope>();
        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
        queue.OnMessage(message =>
            received.Writer.TryWrite(JsonSerializer.Deserialize((byte[])message.Message!, ContractsJsonContext.Default.EventEnvelope)!));
        return received.Reader;
    }

    private static async Task<EventEnvelope> NextAsync(ChannelReader<EventEnvelope> events)
        => await events.ReadAsync().AsTask().WaitAsync(s_eventTimeout);

    private static async Task<EventEnvelope> NextOfTypeAsync(ChannelReader<EventEnvelope> events, string type)
    {
        while (true)
        {
            var envelope = await NextAsync(events);
            if (envelope.Type == type)
            {
                return envelope;
            }
        }
    }
}
