using Yac.Gateway.Dependencies;

namespace Yac.UnitTests.Gateway;

public sealed class AvailabilityTrackerTests
{
    [Fact]
    public void StartsAvailable()
    {
        Assert.True(new AvailabilityTracker(2).IsAvailable);
    }

    [Fact]
    public void OneFailureIsNotEnoughToGoDown()
    {
        var tracker = new AvailabilityTracker(2);
        Assert.False(tracker.RecordFailure());
        Assert.True(tracker.IsAvailable);
    }

    [Fact]
    public void FailuresInARowTakeItDownOnce()
    {
        var tracker = new AvailabilityTracker(2);
        tracker.RecordFailure();
        Assert.True(tracker.RecordFailure());
        Assert.False(tracker.IsAvailable);
        Assert.False(tracker.RecordFailure());
        Assert.False(tracker.IsAvailable);
    }

    [Fact]
    public void AnAnswerBetweenFailuresStartsTheCountAgain()
    {
        // A busy service whose probes time out now and then, while it answers real calls, stays up.
        var tracker = new AvailabilityTracker(2);
        for (var i = 0; i < 10; i++)
        {
            Assert.False(tracker.RecordFailure());
            Assert.False(tracker.RecordSuccess());
        }

        Assert.True(tracker.IsAvailable);
    }

    [Fact]
    public void OneAnswerBringsItBack()
    {
        var tracker = new AvailabilityTracker(2);
        tracker.RecordFailure();
        tracker.RecordFailure();
        Assert.True(tracker.RecordSuccess());
        Assert.True(tracker.IsAvailable);
        Assert.False(tracker.RecordSuccess());
    }

    [Fact]
    public void AfterComingBackItTakesAsManyFailuresAgain()
    {
        var tracker = new AvailabilityTracker(3);
        for (var i = 0; i < 3; i++)
        {
            tracker.RecordFailure();
        }

        tracker.RecordSuccess();
        Assert.False(tracker.RecordFailure());
        Assert.False(tracker.RecordFailure());
        Assert.True(tracker.RecordFailure());
    }

    [Fact]
    public void AtLeastOneFailureIsNeeded()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AvailabilityTracker(0));
    }
}
