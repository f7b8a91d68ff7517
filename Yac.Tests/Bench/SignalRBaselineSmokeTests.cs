using Xunit.Abstractions;
using Yac.Bench.Scenarios;
using Yac.Bench.Systems.SignalR;

namespace Yac.Tests.Bench;

/// <summary>The bench's smoke mode against the SignalR baseline it starts itself (Redis and two hub processes).</summary>
public sealed class SignalRBaselineSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BenchSmokeDeliversEveryMessageToEveryMemberThroughTheSignalRBaseline()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var system = await SignalRBaselineHost.StartAsync(instances: 2, timeout.Token);

        var (step, report) = await SmokeRun.RunAsync(system, output.WriteLine, timeout.Token);

        BenchSmokeAssertions.AssertCompleteAndSane(step, report, SmokeRun.Settings, system.Servers.Count);
        Assert.All(report.IdleMemory, idle => Assert.True(idle.ServerRssAfterBytes > 0, "the hub processes' memory was read from /proc"));
    }
}
