using Yac.Client.Session;

namespace Yac.UnitTests.Client;

public sealed class OutboxTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid s_chat = Guid.NewGuid();

    private static Outbox NewOutbox(int capacity = 10, int window = 3, int maxRefusals = 2) =>
        new(capacity, window, maxRefusals, new ReconnectBackoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10)));

    private static PendingSend Send(string id) => new(s_chat, id, "text of " + id);

    private static string[] Ids(IEnumerable<PendingSend> sends) => [.. sends.Select(send => send.ClientMsgId)];

    [Fact]
    public void SendsGoOutInOrderNoMoreThanTheWindowAtOnce()
    {
        var outbox = NewOutbox(window: 2);
        foreach (var id in new[] { "a", "b", "c" })
        {
            Assert.True(outbox.TryAdd(Send(id)));
        }

        Assert.Equal(["a", "b"], Ids(outbox.TakeSendable(s_now)));
        Assert.Empty(outbox.TakeSendable(s_now));
        Assert.Equal("a", outbox.Complete("a")!.ClientMsgId);
        Assert.Equal(["c"], Ids(outbox.TakeSendable(s_now)));
        Assert.Null(outbox.Complete("a"));
        Assert.Equal(2, outbox.Count);
    }

    [Fact]
    public void AfterAReconnectEveryUnackedSendGoesOutAgainInOrderWithItsClientMsgId()
    {
        var outbox = NewOutbox(window: 5);
        outbox.TryAdd(Send("a"));
        outbox.TryAdd(Send("b"));
        outbox.TakeSendable(s_now);
        outbox.TryAdd(Send("c"));

        outbox.Disconnected();
        var again = outbox.TakeSendable(s_now);

        Assert.Equal(["a", "b", "c"], Ids(again));
        Assert.Equal([2, 2, 1], again.Select(send => send.Transmissions));
    }

    [Fact]
    public void ATransientRefusalIsRetriedWithBackoffUntilTheLimitThenFails()
    {
        var outbox = NewOutbox(maxRefusals: 2);
        outbox.TryAdd(Send("a"));
        outbox.TakeSendable(s_now);

        Assert.Equal(RefusalOutcome.Retry, outbox.Refuse("a", transient: true, s_now, 0, out _));
        Assert.Empty(outbox.TakeSendable(s_now));
        Assert.Equal(s_now.AddMilliseconds(250), outbox.NextRetryAt(s_now));
        Assert.Equal(["a"], Ids(outbox.TakeSendable(s_now.AddMilliseconds(250))));

        Assert.Equal(RefusalOutcome.Retry, outbox.Refuse("a", true, s_now, 0, out _));
        Assert.Equal(s_now.AddMilliseconds(500), outbox.NextRetryAt(s_now));
        outbox.TakeSendable(s_now.AddSeconds(1));
        Assert.Equal(RefusalOutcome.Failed, outbox.Refuse("a", true, s_now, 0, out var failed));
        Assert.Equal("a", failed!.ClientMsgId);
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public void AFinalRefusalRemovesTheSendAndAnUnknownOneIsReportedAsSuch()
    {
        var outbox = NewOutbox();
        outbox.TryAdd(Send("a"));
        outbox.TakeSendable(s_now);

        Assert.Equal(RefusalOutcome.Failed, outbox.Refuse("a", transient: false, s_now, 0, out _));
        Assert.Equal(RefusalOutcome.Unknown, outbox.Refuse("a", transient: false, s_now, 0, out var unknown));
        Assert.Null(unknown);
    }

    [Fact]
    public void TheOutboxIsBoundedAndRefusesADuplicateClientMsgId()
    {
        var outbox = NewOutbox(capacity: 2);
        Assert.True(outbox.TryAdd(Send("a")));
        Assert.False(outbox.TryAdd(Send("a")));
        Assert.True(outbox.TryAdd(Send("b")));
        Assert.True(outbox.IsFull);
        Assert.False(outbox.TryAdd(Send("c")));
        Assert.Equal(["a", "b"], Ids(outbox.Clear()));
        Assert.Equal(0, outbox.Count);
    }
}
