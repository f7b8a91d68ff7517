using System.Diagnostics;
using System.Globalization;
using Yac.Bench.Load;
using Yac.Bench.Measurement;
using Yac.Bench.Reporting;
using Yac.Bench.Systems;

namespace Yac.Bench.Scenarios;

/// <summary>
/// The four scenarios of the comparison, each run the same way against any <see cref="SystemUnderTest"/>.
/// </summary>
public sealed class BenchScenarios(BenchSettings settings, Action<string> progress)
{
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(10);

    private readonly string _text = new('x', settings.MessageBytes);

    /// <summary>
    /// Connects idle sockets in growing totals (same users, more sockets each) and reads how much the
    /// server instances' resident memory grew per socket.
    /// </summary>
    public async Task RunIdleMemoryAsync(SystemUnderTest system, SystemReport report, CancellationToken cancellationToken)
    {
        var largest = settings.IdleSockets.Max();
        var topology = BenchTopology.For(largest, settings.Users, settings.MembersPerChat, system.Servers.Count);
        var clients = OrderByPosition(await system.ProvisionAsync(topology, cancellationToken));
        var meter = new LoadMeter();
        await using var pool = new ConnectionPool(system.Protocol, system.Name, system.Servers, meter);

        await SettleAsync(cancellationToken);
        var before = ResourceSnapshot.Take(system.Processes);
        var connected = 0;
        foreach (var sockets in settings.IdleSockets.Order())
        {
            var started = Stopwatch.GetTimestamp();
            await pool.ConnectAsync(clients.Skip(connected).Take(sockets - connected), count => Report(system, "idle", connected + count, sockets), cancellationToken);
            connected = sockets;
            var secondsToConnect = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await SettleAsync(cancellationToken);
            var after = ResourceSnapshot.Take(system.Processes);
            var serverBefore = before.RssOf(system.Processes, MeasuredProcess.ServerRole);
            var serverAfter = after.RssOf(system.Processes, MeasuredProcess.ServerRole);
            var result = new IdleMemoryResult(
                sockets,
                topology.Users,
                Math.Max(1, sockets / topology.Users),
                await pool.CountOpenAsync(cancellationToken),
                serverBefore,
                serverAfter,
                Math.Round((serverAfter - serverBefore) / (double)sockets, 1),
                after.RssOf(system.Processes, MeasuredProcess.SupportRole) - before.RssOf(system.Processes, MeasuredProcess.SupportRole),
                Math.Round(secondsToConnect, 2),
                after.LoadAverage);
            report.IdleMemory.Add(result);
            progress(string.Create(CultureInfo.InvariantCulture, $"[{system.Name}] idle {sockets} sockets ({result.OpenSockets} open): {result.ServerBytesPerSocket / 1024:F1} KiB per socket (servers {serverBefore / 1048576} -> {serverAfter / 1048576} MiB), connected in {secondsToConnect:F1}s"));
        }

        if (settings.IdleHoldSeconds > 0)
        {
            progress(string.Create(CultureInfo.InvariantCulture, $"[{system.Name}] holding {connected} idle sockets for {settings.IdleHoldSeconds}s; server pids: {string.Join(", ", system.Processes.Where(process => process.Role == MeasuredProcess.ServerRole).Select(process => $"{process.Label}={process.Pid}"))}"));
            await Task.Delay(TimeSpan.FromSeconds(settings.IdleHoldSeconds), cancellationToken);
        }
    }

    /// <summary>Raises the offered rate step by step until delivery p99 passes the limit or deliveries go missing.</summary>
    public async Task RunFanOutAsync(SystemUnderTest system, SystemReport report, CancellationToken cancellationToken)
    {
        var topology = BenchTopology.For(settings.Users, settings.Users, settings.MembersPerChat, system.Servers.Count);
        await using var session = await OpenAsync(system, topology, cancellationToken);
        var steps = new List<StepResult>();
        var saturation = 0.0;
        var stoppedBecause = "the ladder ended before saturation";
        foreach (var rate in settings.FanOutLadder)
        {
            var step = await session.Driver.RunAsync($"[{system.Name}] fan-out {rate:F0}/s", rate, TimeSpan.FromSeconds(settings.StepSeconds), s_drainTimeout, cancellationToken);
            steps.Add(step);
            progress(DescribeStep($"[{system.Name}] fan-out offered {rate:F0}/s", step));
            var failure = FailureOf(step);
            if (failure is not null)
            {
                stoppedBecause = string.Create(CultureInfo.InvariantCulture, $"at {rate:F0} offered deliveries/s: {failure}");
                break;
            }

            saturation = Math.Max(saturation, step.DeliveredPerSecond);
        }

        report.FanOut = new FanOutResult(steps, saturation, stoppedBecause);
    }

    /// <summary>Steady load at each rate, longer than a fan-out step, for the latency distribution.</summary>
    public async Task RunLatencyAsync(SystemUnderTest system, SystemReport report, IReadOnlyList<(string Label, double Rate)> rates, CancellationToken cancellationToken)
    {
        var topology = BenchTopology.For(settings.Users, settings.Users, settings.MembersPerChat, system.Servers.Count);
        await using var session = await OpenAsync(system, topology, cancellationToken);
        foreach (var (label, rate) in rates)
        {
            var step = await session.Driver.RunAsync($"[{system.Name}] latency {label}", rate, TimeSpan.FromSeconds(settings.StepSeconds * 2), s_drainTimeout, cancellationToken);
            report.Latency.Add(new LatencyResult(label, step));
            progress(DescribeStep($"[{system.Name}] latency {label}", step));
        }
    }

    /// <summary>The same delivery rate over more and more sockets (the same users, more sockets each).</summary>
    public async Task RunCostGrowthAsync(SystemUnderTest system, SystemReport report, CancellationToken cancellationToken)
    {
        foreach (var sockets in settings.CostSockets.Order())
        {
            var topology = BenchTopology.For(sockets, settings.Users, settings.MembersPerChat, system.Servers.Count);
            await using var session = await OpenAsync(system, topology, cancellationToken);
            var step = await session.Driver.RunAsync($"[{system.Name}] cost {sockets} sockets", settings.CostDeliveriesPerSecond, TimeSpan.FromSeconds(settings.StepSeconds * 1.5), s_drainTimeout, cancellationToken);
            report.CostGrowth.Add(new CostResult(sockets, topology.SocketsPerUser, step));
            progress(DescribeStep($"[{system.Name}] cost {sockets} sockets", step));
        }
    }

    /// <summary>A few seconds at a small size: every message must reach every member's socket.</summary>
    public async Task<StepResult> RunSmokeAsync(SystemUnderTest system, SystemReport report, CancellationToken cancellationToken)
    {
        var topology = BenchTopology.For(settings.Users, settings.Users, settings.MembersPerChat, system.Servers.Count);
        await using var session = await OpenAsync(system, topology, cancellationToken, warmUp: false);
        var step = await session.Driver.RunAsync($"[{system.Name}] smoke", settings.CostDeliveriesPerSecond, TimeSpan.FromSeconds(settings.StepSeconds), TimeSpan.FromSeconds(30), cancellationToken);
        report.Latency.Add(new LatencyResult("smoke", step));
        progress(DescribeStep($"[{system.Name}] smoke", step));
        return step;
    }

    /// <summary>Why a fan-out step counts as past saturation; null if it passed.</summary>
    public string? FailureOf(StepResult step)
    {
        if (step.DeliveryLatency.P99 > settings.LatencyP99LimitMilliseconds)
        {
            return string.Create(CultureInfo.InvariantCulture, $"delivery p99 {step.DeliveryLatency.P99:F0} ms > {settings.LatencyP99LimitMilliseconds:F0} ms");
        }

        if (!step.Complete)
        {
            return string.Create(CultureInfo.InvariantCulture, $"incomplete: {step.Acked}/{step.Scheduled} acked, {step.Delivered}/{step.ExpectedDeliveries} delivered, {step.SkippedBusy} sends skipped (client busy), errors {string.Join(",", step.Errors.Select(error => $"{error.Key}={error.Value}"))}");
        }

        return null;
    }

    public static string DescribeStep(string label, StepResult step)
    {
        var cpu = string.Join(" ", step.CpuSeconds.Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Key}={entry.Value / step.WindowSeconds * 100:F0}%")));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{label}: delivered {step.DeliveredPerSecond:F0}/s ({step.Delivered}/{step.ExpectedDeliveries}{(step.Complete ? "" : " INCOMPLETE")}), latency p50 {step.DeliveryLatency.P50:F1} p90 {step.DeliveryLatency.P90:F1} p99 {step.DeliveryLatency.P99:F1} max {step.DeliveryLatency.Max:F1} ms, cross-instance p99 {step.CrossInstanceLatency.P99:F1} ms; cpu {cpu} bench={step.BenchCpuSeconds / step.WindowSeconds * 100:F0}%; {step.CpuSecondsPer1000Deliveries:F3} cpu-s/1k deliveries; load {step.LoadAverageAfter:F2}");
    }

    private async Task<LoadSession> OpenAsync(SystemUnderTest system, BenchTopology topology, CancellationToken cancellationToken, bool warmUp = true)
    {
        var clients = OrderByPosition(await system.ProvisionAsync(topology, cancellationToken));
        var meter = new LoadMeter();
        var pool = new ConnectionPool(system.Protocol, system.Name, system.Servers, meter);
        try
        {
            await pool.ConnectAsync(clients, count => Report(system, "connect", count, clients.Count), cancellationToken);
            await SettleAsync(cancellationToken);
            var driver = new LoadDriver(system, pool, meter, topology, _text, progress);
            if (warmUp)
            {
                // JIT, tiered compilation and pools fill up here rather than in the first measured step.
                await driver.RunAsync($"[{system.Name}] warm-up", settings.FanOutLadder[0], TimeSpan.FromSeconds(3), s_drainTimeout, cancellationToken);
            }

            return new LoadSession(pool, driver);
        }
        catch
        {
            await pool.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every user's first socket, then every user's second, ...: a prefix is a smaller topology of the same users.</summary>
    private static List<BenchClient> OrderByPosition(IReadOnlyList<BenchClient> clients)
    {
        var socketsPerUser = clients.Count / Math.Max(1, clients.Select(client => client.UserIndex).Distinct().Count());
        return [.. clients.OrderBy(client => client.Index - (client.UserIndex * socketsPerUser)).ThenBy(client => client.UserIndex)];
    }

    private void Report(SystemUnderTest system, string what, int count, int total)
    {
        if (count % 1000 == 0 || count == total)
        {
            progress(string.Create(CultureInfo.InvariantCulture, $"  [{system.Name}] {what}: {count}/{total} sockets"));
        }
    }

    /// <summary>Lets the servers finish the work a burst of connects caused before memory is read.</summary>
    private static Task SettleAsync(CancellationToken cancellationToken) => Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);

    private sealed record LoadSession(ConnectionPool Pool, LoadDriver Driver) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Pool.DisposeAsync();
    }
}
