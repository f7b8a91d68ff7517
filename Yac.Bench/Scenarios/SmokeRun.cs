using Yac.Bench.Load;
using Yac.Bench.Reporting;
using Yac.Bench.Systems;

namespace Yac.Bench.Scenarios;

/// <summary>
/// The bench at its smallest (20 users in two chats, two seconds of sending, a few idle sockets),
/// against a system someone else started: CI runs it so the bench never rots.
/// </summary>
public static class SmokeRun
{
    public static BenchSettings Settings => BenchOptions.Parse(["smoke"]).Settings;

    /// <summary>Returns the smoke step and the report it filled (idle memory included).</summary>
    public static async Task<(StepResult Step, SystemReport Report)> RunAsync(SystemUnderTest system, Action<string> progress, CancellationToken cancellationToken)
    {
        var scenarios = new BenchScenarios(Settings, progress);
        var report = new SystemReport { Name = system.Name };
        await scenarios.RunIdleMemoryAsync(system, report, cancellationToken);
        var step = await scenarios.RunSmokeAsync(system, report, cancellationToken);
        return (step, report);
    }
}
