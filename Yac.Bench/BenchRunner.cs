using System.Globalization;
using System.Text.Json;
using Yac.Bench.Load;
using Yac.Bench.Measurement;
using Yac.Bench.Reporting;
using Yac.Bench.Scenarios;
using Yac.Bench.Systems;
using Yac.Bench.Systems.SignalR;
using Yac.Bench.Systems.Yac;

namespace Yac.Bench;

/// <summary>Starts each system in turn, runs the chosen scenarios against it, and writes the report.</summary>
public sealed class BenchRunner(BenchOptions options, Action<string> progress)
{
    private const ulong WantedOpenFiles = 200_000;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var (filesBefore, filesAfter) = OpenFileLimit.Raise(WantedOpenFiles);
        var sources = Enumerable.Range(0, BenchTopology.SourceAddressCount).Select(index => BenchTopology.SourceAddressOf(index).ToString()).ToList();
        var loadAtStart = MachineInfo.LoadAverage();
        progress(string.Create(CultureInfo.InvariantCulture, $"open-file limit: {filesBefore} before, {filesAfter} after raising to {WantedOpenFiles} was attempted (the servers the bench starts inherit it); at most {ConnectionPool.LocalCapacity} client sockets per process, the rest in bench worker processes"));
        progress(string.Create(CultureInfo.InvariantCulture, $"client sockets spread over source addresses {sources[0]}-{sources[^1]}; clients connect straight to each server instance's own port (no proxy)"));
        progress(string.Create(CultureInfo.InvariantCulture, $"load average at start: {loadAtStart:F2} on {Environment.ProcessorCount} cores"));

        var scenarios = new BenchScenarios(options.Settings, progress);
        var reports = new List<SystemReport>();
        var yacSaturation = options.YacSaturation;
        foreach (var name in options.Systems.OrderBy(name => name == "yac" ? 0 : 1))
        {
            var report = new SystemReport { Name = name };
            reports.Add(report);
            await using var system = await StartAsync(name, cancellationToken);
            foreach (var (key, value) in await system.DescribeAsync(cancellationToken))
            {
                report.Facts[key] = value;
            }

            report.Processes.AddRange(system.Processes.Select(process => new ProcessInfo(process.Label, process.Role, process.Pid, ProcessTree.CommandLineOf(process.Pid))));
            progress($"[{name}] instances: {string.Join(", ", system.Servers)}; measuring {string.Join(", ", report.Processes.Select(process => $"{process.Label} (pid {process.Pid}, {process.Role})"))}");
            await RunScenariosAsync(scenarios, system, report, yacSaturation, cancellationToken);
            if (name == "yac" && report.FanOut is { SaturationDeliveriesPerSecond: > 0 } fanOut)
            {
                yacSaturation = fanOut.SaturationDeliveriesPerSecond;
            }
        }

        return new BenchReport(
            startedAt,
            DateTimeOffset.UtcNow,
            options.Mode,
            MachineInfo.Read(),
            new RunConditions(filesBefore, filesAfter, sources, loadAtStart, MachineInfo.LoadAverage(), string.Create(CultureInfo.InvariantCulture, $"Load generator, servers, Redis and PostgreSQL share this machine. Open-file limit {filesBefore} -> {filesAfter}; at most {ConnectionPool.LocalCapacity} client sockets per bench process, the rest in worker processes; sources {sources[0]}-{sources[^1]}.")),
            options.Settings,
            reports);
    }

    /// <summary>Writes the JSON results, the Markdown summary and the latency chart; returns their paths.</summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(BenchReport report, string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, $"{report.StartedAt:yyyyMMdd-HHmmss}-{report.Mode}");
        await File.WriteAllTextAsync($"{stem}.json", JsonSerializer.Serialize(report, JsonOptions), cancellationToken);
        await File.WriteAllTextAsync($"{stem}.md", SummaryWriter.Render(report), cancellationToken);
        await File.WriteAllTextAsync($"{stem}-latency.svg", LatencyChart.Render(report), cancellationToken);
        return [$"{stem}.json", $"{stem}.md", $"{stem}-latency.svg"];
    }

    private async Task RunScenariosAsync(BenchScenarios scenarios, SystemUnderTest system, SystemReport report, double? yacSaturation, CancellationToken cancellationToken)
    {
        foreach (var scenario in options.Scenarios)
        {
            try
            {
                await RunScenarioAsync(scenarios, scenario, system, report, yacSaturation, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One failed scenario must not cost the numbers of the others; the report says why it has none.
                report.NotMeasured.Add($"{scenario}: {exception.GetType().Name}: {exception.Message}");
                progress($"[{system.Name}] {scenario} failed: {exception}");
            }
        }
    }

    private async Task RunScenarioAsync(BenchScenarios scenarios, string scenario, SystemUnderTest system, SystemReport report, double? yacSaturation, CancellationToken cancellationToken)
    {
        switch (scenario)
        {
            case "smoke":
                await scenarios.RunSmokeAsync(system, report, cancellationToken);
                break;
            case "idle":
                await scenarios.RunIdleMemoryAsync(system, report, cancellationToken);
                break;
            case "fanout":
                await scenarios.RunFanOutAsync(system, report, cancellationToken);
                break;
            case "latency":
                await scenarios.RunLatencyAsync(system, report, LatencyRates(system, report, yacSaturation), cancellationToken);
                break;
            case "cost":
                await scenarios.RunCostGrowthAsync(system, report, cancellationToken);
                break;
            default:
                throw new ArgumentException($"Unknown scenario '{scenario}'.");
        }
    }

    private List<(string Label, double Rate)> LatencyRates(SystemUnderTest system, SystemReport report, double? yacSaturation)
    {
        var rates = options.Settings.LatencyRates
            .Select(rate => (string.Create(CultureInfo.InvariantCulture, $"{rate:N0} deliveries/s"), rate))
            .ToList();
        var saturation = system.Name == "yac" ? report.FanOut?.SaturationDeliveriesPerSecond : yacSaturation;
        if (saturation is > 0)
        {
            rates.Add((string.Create(CultureInfo.InvariantCulture, $"half of YAC's saturation ({saturation.Value / 2:N0} deliveries/s)"), saturation.Value / 2));
        }
        else
        {
            report.NotMeasured.Add("latency at half of YAC's saturation: YAC's saturation is not known in this run");
        }

        return rates;
    }

    private async Task<SystemUnderTest> StartAsync(string name, CancellationToken cancellationToken)
    {
        progress($"starting {name}");
        switch (name)
        {
            case "signalr":
                return await SignalRBaselineHost.StartAsync(options.Settings.ServerInstances, cancellationToken);
            case "yac":
                var yac = await YacAppHostLauncher.StartAsync(options.Settings.YacTraceRatio, progress, cancellationToken);
                yac.Progress = progress;
                return yac;
            default:
                throw new ArgumentException($"Unknown system '{name}'.");
        }
    }
}
