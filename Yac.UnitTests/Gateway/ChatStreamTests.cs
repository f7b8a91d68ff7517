using Yac.Gateway.Delivery;

namespace Yac.UnitTests.Gateway;

public sealed class ChatStreamTests
{
    private static readonly GapFillPolicy s_policy = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
    private static readonly DateTimeOffset s_start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ChatChange Change(long rev) => new(rev, ChatChange.Message, null, rev, new byte[] { (byte)rev });

    private static long[] Revs(IEnumerable<ChatChange> changes) => [.. changes.Select(change => change.Rev)];

    [Fact]
    public void ChangesInOrderLeaveAtOnce()
    {
        var stream = new ChatStream(4, s_policy);
        Assert.Equal([5], Revs(stream.Accept(Change(5), s_start)));
        Assert.Equal([6], Revs(stream.Accept(Change(6), s_start)));
        Assert.Equal(6, stream.Rev);
        Assert.False(stream.TryStartFetch(s_start, out _, out var dueIn));
        Assert.Null(dueIn);
    }

    [Fact]
    public void DuplicatesAndOldChangesNeverLeaveTwice()
    {
        var stream = new ChatStream(0, s_policy);
        Assert.Equal([1], Revs(stream.Accept(Change(1), s_start)));
        Assert.Empty(stream.Accept(Change(1), s_start));
        Assert.Equal([2], Revs(stream.Accept(Change(2), s_start)));
        Assert.Empty(stream.Accept(Change(1), s_start));
        Assert.Empty(stream.FetchSucceeded([Change(1), Change(2)], hasMore: false, s_start));
    }

    [Fact]
    public void OutOfOrderChangesLeaveInOrderOnceTheGapCloses()
    {
        var stream = new ChatStream(0, s_policy);
        Assert.Empty(stream.Accept(Change(3), s_start));
        Assert.Empty(stream.Accept(Change(2), s_start));
        Assert.Equal(2, stream.Waiting);
        Assert.Equal([1, 2, 3], Revs(stream.Accept(Change(1), s_start)));
        Assert.Equal(0, stream.Waiting);
    }

    [Fact]
    public void AGapIsFetchedAfterTheFirstDelayAndFilled()
    {
        var stream = new ChatStream(10, s_policy);
        Assert.Empty(stream.Accept(Change(13), s_start));

        // Not at once: the missing changes may only be late on the wire.
        Assert.False(stream.TryStartFetch(s_start, out _, out var dueIn));
        Assert.Equal(TimeSpan.FromMilliseconds(100), dueIn);

        Assert.True(stream.TryStartFetch(s_start.AddMilliseconds(100), out var afterRev, out _));
        Assert.Equal(10, afterRev);
        Assert.False(stream.TryStartFetch(s_start.AddMilliseconds(100), out _, out _)); // one fetch at a time

        Assert.Equal([11, 12, 13], Revs(stream.FetchSucceeded([Change(11), Change(12)], hasMore: false, s_start.AddMilliseconds(150))));
        Assert.False(stream.TryStartFetch(s_start.AddSeconds(1), out _, out _));
    }

    [Fact]
    public void FailedFetchesBackOffUpToTheCapAndTheGapIsNeverSkipped()
    {
        var stream = new ChatStream(0, s_policy);
        stream.Accept(Change(2), s_start);
        var now = s_start.AddMilliseconds(100);
        var delays = new List<TimeSpan>();
        for (var attempt = 0; attempt < 12; attempt++)
        {
            Assert.True(stream.TryStartFetch(now, out var afterRev, out _));
            Assert.Equal(0, afterRev);
            stream.FetchFailed(now);
            Assert.False(stream.TryStartFetch(now, out _, out var dueIn));
            delays.Add(dueIn!.Value);
            now += dueIn.Value;
        }

        Assert.Equal(TimeSpan.FromMilliseconds(200), delays[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(400), delays[1]);
        Assert.All(delays.Skip(6), delay => Assert.Equal(TimeSpan.FromSeconds(5), delay));
        Assert.Equal(0, stream.Rev); // still waiting for rev 1: nothing was skipped

        // History is back (say 30 s later): the gap closes.
        Assert.True(stream.TryStartFetch(now, out _, out _));
        Assert.Equal([1, 2], Revs(stream.FetchSucceeded([Change(1)], hasMore: false, now)));
    }

    [Fact]
    public void ACatchUpFetchesWithoutAVisibleGapAndGoesOnWhileThereIsMore()
    {
        var stream = new ChatStream(5, s_policy);
        stream.RequestCatchUp();
        Assert.True(stream.TryStartFetch(s_start, out var afterRev, out _));
        Assert.Equal(5, afterRev);
        Assert.Equal([6, 7], Revs(stream.FetchSucceeded([Change(6), Change(7)], hasMore: true, s_start)));
        Assert.True(stream.TryStartFetch(s_start, out afterRev, out _));
        Assert.Equal(7, afterRev);
        Assert.Empty(stream.FetchSucceeded([], hasMore: false, s_start));
        Assert.False(stream.TryStartFetch(s_start, out _, out _));
    }

    [Fact]
    public void LiveChangesDuringAFetchAreKeptAndDeliveredInOrderAfterIt()
    {
        var stream = new ChatStream(0, s_policy);
        stream.RequestCatchUp();
        Assert.True(stream.TryStartFetch(s_start, out _, out _));
        Assert.Empty(stream.Accept(Change(4), s_start)); // live, ahead of what the fetch brings
        Assert.Equal([1, 2, 3, 4], Revs(stream.FetchSucceeded([Change(1), Change(2), Change(3)], hasMore: false, s_start)));
    }

    [Fact]
    public void APageThatEndsBeforeWhatWaitsIsFollowedByAnotherFetchAtOnce()
    {
        var stream = new ChatStream(0, s_policy);
        stream.Accept(Change(5), s_start);
        Assert.True(stream.TryStartFetch(s_start.AddSeconds(1), out _, out _));
        Assert.Equal([1, 2], Revs(stream.FetchSucceeded([Change(1), Change(2)], hasMore: false, s_start.AddSeconds(1))));
        Assert.True(stream.TryStartFetch(s_start.AddSeconds(1), out var afterRev, out _));
        Assert.Equal(2, afterRev);
    }
}
