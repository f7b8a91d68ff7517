using Yac.Gateway.Dependencies;

namespace Yac.UnitTests.Gateway;

public sealed class AvailabilityTrackerTests
{
    private static readonly TimeSpan s_quiet = TimeSpan.FromSeconds(2);
    private static readonly DateTimeOffset s_start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => s_start.AddSeconds(seconds);

    [Fact]
    public void StartsAvailable()
    {
        Assert.True(new AvailabilityTracker(2, s_quiet).IsAvailable);
    }

    [Fact]
    public void OneFailureIsNotEnoughToGoDown()
    {
        var tracker = new AvailabilityTracker(2, s_quiet);
        Assert.False(tracker.RecordFailure(At(0)));
        Assert.True(tracker.IsAvailable);
    }

    [Fact]
    public void FailuresInARowTakeItDownOnce()
    {
        var tracker = new AvailabilityTracker(2, s_quiet);
        tracker.RecordFailure(At(0));
        Assert.True(tracker.RecordFailure(At(1)));
        Assert.False(tracker.IsAvailable);
        Assert.False(tracker.RecordFailure(At(2)));
        Assert.False(tracker.IsAvailable);
    }

    [Fact]
    public void AnAnswerBetweenFailuresStartsTheCountAgain()
    {
        // A busy service whose probes time out now and then, while it answers real calls, stays up.
        var tracker = new AvailabilityTracker(2, TimeSpan.Zero);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(tracker.RecordFailure(At(2 * i)));
            Assert.False(tracker.RecordSuccess(At((2 * i) + 1)));
        }

        Assert.True(tracker.IsAvailable);
    }

    [Fact]
    public void FailedProbesDoNotTakeDownAServiceThatAnsweredWithinTheQuietPeriod()
    {
        var tracker = new AvailabilityTracker(2, s_quiet);
        tracker.RecordSuccess(At(10));
        Assert.False(tracker.RecordFailure(At(10.5)));
        Assert.False(tracker.RecordFailure(At(11.5)));
        Assert.True(tracker.IsAvailable);

        // Still failing, and nothing answered for the quiet period: down.
        Assert.True(tracker.RecordFailure(At(12.5)));
        Assert.False(tracker.IsAvailable);
    }

    [Fact]
    public void OneAnswerBringsItBack()
    {
        var tracker = new AvailabilityTracker(2, s_quiet);
        tracker.RecordFailure(At(0));
        tracker.RecordFailure(At(1));
        Assert.True(tracker.RecordSuccess(At(2)));
        Assert.True(tracker.IsAvailable);
        Assert.False(tracker.RecordSuccess(At(3)));
    }

    [Fact]
    public void AfterComingBackItTakesAsManyFailuresAgain()
    {
        var tracker = new AvailabilityTracker(3, TimeSpan.Zero);
        for (var i = 0; i < 3; i++)
        {
            tracker.RecordFailure(At(i));
        }

        tracker.RecordSuccess(At(4));
        Assert.False(tracker.RecordFailure(At(5)));
        Assert.False(tracker.RecordFailure(At(6)));
        Assert.True(tracker.RecordFailure(At(7)));
    }

    [Fact]
    public void AtLeastOneFailureIsNeeded()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AvailabilityTracker(0, s_quiet));
    }
}
