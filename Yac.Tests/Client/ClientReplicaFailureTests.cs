using System.Diagnostics;
using Yac.Client;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

/// <summary>Yac.Client's conversation test kills a gateway replica: it runs on an app of its own.</summary>
[CollectionDefinition(Name)]
public sealed class ClientReplicaFailureCollection : ICollectionFixture<ReplicaFailureAppFixture>
{
    public const string Name = "YAC app whose gateway replica dies under Yac.Client";
}

[Collection(ClientReplicaFailureCollection.Name)]
public sealed class ClientReplicaFailureTests(ReplicaFailureAppFixture fixture, ITestOutputHelper output)
{
    private const int MessagesPerClient = 150;
    private const int InFlightPerClient = 4;

    [Fact]
    public async Task TwoClientsConverseThroughAReplicaCrashAndEachSeesEveryMessageOnceInOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var alice = await fixture.SignInClientAsync("alice", timeout.Token, new TestOutputLoggerFactory(output, "alice"));
        using var bob = await fixture.SignInClientAsync("bob", timeout.Token, new TestOutputLoggerFactory(output, "bob"));
        var chat = await alice.Client.CreateChatAsync(YacCreateChat.Direct(bob.User.Id), timeout.Token);

        await using var aliceEvents = new ClientEventLog(await alice.Client.ConnectAsync(cancellationToken: timeout.Token));
        await using var bobEvents = new ClientEventLog(await bob.Client.ConnectAsync(cancellationToken: timeout.Token));
        var (aliceSession, bobSession) = (aliceEvents.Session, bobEvents.Session);
        var replicas = await fixture.GetReplicasByGatewayIdAsync(alice.Tokens.AccessToken, timeout.Token);
        var doomed = aliceSession.GatewayId!;
        Assert.Contains(doomed, replicas.Keys);

        // Each client keeps a few sends on their way, as a busy person typing does.
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopwatch = Stopwatch.StartNew();
        var aliceSends = ConverseAsync(aliceSession, chat.Id, "alice", halfway, timeout.Token);
        var bobSends = ConverseAsync(bobSession, chat.Id, "bob", null, timeout.Token);

        await halfway.Task.WaitAsync(timeout.Token);
        await fixture.KillGatewayReplicaAsync(replicas[doomed], timeout.Token);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} killed {doomed} (alice's; bob's is {bobSession.GatewayId})");
        var acks = (await Task.WhenAll(aliceSends, bobSends).WaitAsync(TimeSpan.FromSeconds(90), timeout.Token)).SelectMany(ack => ack).ToList();
        var sendingTook = stopwatch.Elapsed;
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {acks.Count} sends acknowledged in {sendingTook.TotalSeconds:0.0} s; alice connected {aliceSession.Connections} times, bob {bobSession.Connections}; resent {aliceSession.ResentSends + bobSession.ResentSends}, gap fills {aliceSession.GapFills + bobSession.GapFills}");

        // Every send completed with its own seq: 1..N, none twice.
        const int total = 2 * MessagesPerClient;
        Assert.Equal(Enumerable.Range(1, total).Select(seq => (long)seq), acks.Select(ack => ack.Seq).Order());

        foreach (var (name, events) in new[] { ("alice", aliceEvents), ("bob", bobEvents) })
        {
            await events.WaitUntilAsync(_ => events.Messages(chat.Id).Count >= total, TimeSpan.FromSeconds(60), $"{name}'s {total} messages", timeout.Token);
            var seen = events.Messages(chat.Id);
            // Exactly once, in seq order, each the message that was acknowledged.
            Assert.Equal(Enumerable.Range(1, total).Select(seq => (long)seq), seen.Select(message => message.Seq));
            Assert.Equal(acks.OrderBy(ack => ack.Seq).Select(ack => ack.ClientMsgId), seen.Select(message => message.ClientMsgId));
        }

        // Alice's socket died with its replica: her session came back on another one.
        Assert.True(aliceSession.Connections >= 2, $"alice connected {aliceSession.Connections} times");
        Assert.NotEqual(doomed, aliceSession.GatewayId);

        // Nothing stored twice: history holds each clientMsgId once.
        var stored = new List<YacMessage>();
        YacMessagePage page;
        do
        {
            page = await bob.Client.GetMessagesAsync(chat.Id, afterSeq: stored.Count == 0 ? 0 : stored[^1].Seq, limit: 200, cancellationToken: timeout.Token);
            stored.AddRange(page.Messages);
        }
        while (page.HasMore);

        Assert.Equal(total, stored.Count);
        Assert.Equal(total, stored.Select(message => message.ClientMsgId).Distinct().Count());
        Assert.True(sendingTook < TimeSpan.FromSeconds(60), $"the conversation took {sendingTook}");
    }

    private static async Task<List<YacSendResult>> ConverseAsync(
        YacSession session, Guid chatId, string name, TaskCompletionSource? halfway, CancellationToken cancellationToken)
    {
        var sends = new List<Task<YacSendResult>>();
        for (var index = 1; index <= MessagesPerClient; index++)
        {
            if (sends.Count >= InFlightPerClient)
            {
                await sends[^InFlightPerClient];
            }

            sends.Add(session.SendAsync(chatId, $"{name} says {index}", cancellationToken));
            if (index == MessagesPerClient / 2)
            {
                halfway?.TrySetResult();
            }
        }

        return [.. await Task.WhenAll(sends)];
    }
}
