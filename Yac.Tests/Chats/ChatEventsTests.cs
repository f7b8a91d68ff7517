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

[Collection(YacServicesAppCollection.Name)]
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

        var envelope = await NextChangeAsync(events, "message");
        Assert.Equal(EventEnvelope.CurrentVersion, envelope.V);
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", envelope.TraceParent);
        var change = Change(envelope);
        // The creator's memberJoined is rev 1; the message is the chat's second change.
        Assert.Equal((chat.Id, 2L, "message", sent.Seq), (change.ChatId, change.Rev, change.Type, change.Seq));
        // The frame is the REST message with type and rev: exactly what sockets receive.
        var frame = change.Frame.Deserialize<MessageJson>(ChatUser.Json)!;
        Assert.Equal(sent, frame);
        Assert.Equal(2L, change.Frame.GetProperty("rev").GetInt64());
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

        var changes = new List<ChatChangeEvent>();
        while (changes.Count < 50)
        {
            changes.Add(Change(await NextChangeAsync(events, "message")));
        }

        // Revs 1 and 2 are the two members joining at creation; then one rev per message, in commit order.
        Assert.Equal(Enumerable.Range(1, 50).Select(seq => (long?)seq), changes.Select(change => change.Seq));
        Assert.Equal(Enumerable.Range(3, 50).Select(rev => (long)rev), changes.Select(change => change.Rev));
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

        // The join is on the joiner's own channel too (their gateways subscribe to the chat); rev 1 was
        // the owner's join at creation, rev 2 the first message.
        var joined = Change(await NextChangeAsync(joinerEvents, "memberJoined"));
        Assert.Equal((chat.Id, joiner.Id, 3L), (joined.ChatId, joined.UserId, joined.Rev));

        var changes = new List<ChatChangeEvent>();
        ReadUpdatedEvent? read = null;
        while (changes.Count < 3 || read is null)
        {
            var envelope = await NextAsync(chatEvents);
            if (envelope.Type == EventTypes.ReadUpdated)
            {
                read = envelope.Data.Deserialize(ContractsJsonContext.Default.ReadUpdatedEvent);
            }
            else if (Change(envelope) is { Rev: > 2 } change)
            {
                // Rev 2 (the message before the join) is published from the log after its commit, so
                // under load it may still go out after the subscription: seen, and not what this checks.
                changes.Add(change);
            }
        }

        // On the chat's channel, in rev order: the join, the message, the leave (reads are not in the log).
        Assert.Equal(
            [("memberJoined", 3L, (Guid?)joiner.Id), ("message", 4L, null), ("memberLeft", 5L, joiner.Id)],
            changes.Select(change => (change.Type, change.Rev, change.UserId)));
        Assert.Equal((chat.Id, owner.Id, 2L), (read.ChatId, read.UserId, read.Seq));
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

        // Every initial member joins in the chat's log, the creator first: revs 1 and 2.
        foreach (var (events, userId, rev) in new[] { (aliceEvents, alice.Id, 1L), (bobEvents, bob.Id, 2L) })
        {
            var joined = Change(await NextChangeAsync(events, "memberJoined"));
            Assert.Equal((chat.Id, (Guid?)userId, rev), (joined.ChatId, joined.UserId, joined.Rev));
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
                if (envelope.Type == EventTypes.ChatChange && Change(envelope).Seq == seq)
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

    private static ChatChangeEvent Change(EventEnvelope envelope)
    {
        Assert.Equal(EventTypes.ChatChange, envelope.Type);
        return envelope.Data.Deserialize(ContractsJsonContext.Default.ChatChangeEvent)!;
    }

    /// <summary>The next change of the given type (a frame type: message, memberJoined, ...).</summary>
    private static async Task<EventEnvelope> NextChangeAsync(ChannelReader<EventEnvelope> events, string changeType)
    {
        while (true)
        {
            var envelope = await NextOfTypeAsync(events, EventTypes.ChatChange);
            if (Change(envelope).Type == changeType)
            {
                return envelope;
            }
        }
    }

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
