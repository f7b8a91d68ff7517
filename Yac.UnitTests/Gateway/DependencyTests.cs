using Microsoft.Extensions.Time.Testing;
using Yac.Gateway.Dependencies;

namespace Yac.UnitTests.Gateway;

public sealed class DependencyTests
{
    [Fact]
    public void GoingDownCancelsItsTokenAndComingBackGivesAFreshOne()
    {
        using var dependency = new Dependency("chat", 1, TimeSpan.Zero, (_, _) => Task.CompletedTask, new FakeTimeProvider());
        var before = dependency.WhileAvailable;
        var changes = new List<bool>();
        dependency.Changed += (_, available) => changes.Add(available);

        dependency.RecordFailure();
        Assert.True(before.IsCancellationRequested);
        Assert.False(dependency.IsAvailable);

        dependency.RecordSuccess();
        Assert.True(dependency.IsAvailable);
        Assert.False(dependency.WhileAvailable.IsCancellationRequested);
        Assert.Equal([false, true], changes);
    }

    [Fact]
    public async Task WhileDownACallWaitsForAFreshProbeAndGoesThroughWhenItAnswers()
    {
        var probes = 0;
        using var dependency = new Dependency("chat", 1, TimeSpan.Zero, (self, _) =>
        {
            probes++;
            self.RecordSuccess();
            return Task.CompletedTask;
        }, new FakeTimeProvider());
        dependency.RecordFailure();

        Assert.True(await dependency.IsAvailableAsync(CancellationToken.None));
        Assert.Equal(1, probes);
        Assert.True(await dependency.IsAvailableAsync(CancellationToken.None));
        Assert.Equal(1, probes);
    }

    [Fact]
    public async Task WhileDownCallsShareOneProbeAndDoNotProbeAgainWithinItsSpacing()
    {
        var time = new FakeTimeProvider();
        var probes = 0;
        var answer = new TaskCompletionSource();
        using var dependency = new Dependency("chat", 1, TimeSpan.Zero, async (self, _) =>
        {
            Interlocked.Increment(ref probes);
            await answer.Task;
            self.RecordFailure();
        }, time);
        dependency.RecordFailure();

        var first = dependency.IsAvailableAsync(CancellationToken.None).AsTask();
        var second = dependency.IsAvailableAsync(CancellationToken.None).AsTask();
        answer.SetResult();
        Assert.False(await first);
        Assert.False(await second);
        Assert.Equal(1, probes);

        // Refused at once within the spacing: a flood of calls to a dead service is not a flood of probes.
        Assert.False(await dependency.IsAvailableAsync(CancellationToken.None));
        Assert.Equal(1, probes);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await dependency.IsAvailableAsync(CancellationToken.None));
        Assert.Equal(2, probes);
    }
}
