using System.Globalization;
using System.Text;
using Yac.Bench.Load;

namespace Yac.Bench.Reporting;

/// <summary>Markdown tables of a run: one per scenario, every system side by side, with the ratio to the baseline.</summary>
public static class SummaryWriter
{
    private const string Missing = "not measured";

    public static string Render(BenchReport report)
    {
        var yac = report.Systems.FirstOrDefault(system => system.Name == "yac");
        var baseline = report.Systems.FirstOrDefault(system => system.Name == "signalr");
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Bench run {report.StartedAt:yyyy-MM-dd HH:mm} UTC ({report.Mode})\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Machine: {report.Machine.ProcessorCount} cores, {report.Machine.CpuModel}, {report.Machine.MemoryBytes / 1073741824.0:F1} GiB, {report.Machine.Runtime}. ");
        text.Append(CultureInfo.InvariantCulture, $"Load average {report.Conditions.LoadAverageAtStart:F2} at start, {report.Conditions.LoadAverageAtEnd:F2} at end. {report.Conditions.Note}\n\n");

        text.Append("## Idle memory per socket (server instances' resident memory growth / sockets)\n\n");
        text.Append("| sockets | YAC KiB/socket | SignalR KiB/socket | YAC / SignalR |\n|---|---|---|---|\n");
        foreach (var sockets in report.Settings.IdleSockets)
        {
            var a = yac?.IdleMemory.FirstOrDefault(result => result.Sockets == sockets)?.ServerBytesPerSocket / 1024;
            var b = baseline?.IdleMemory.FirstOrDefault(result => result.Sockets == sockets)?.ServerBytesPerSocket / 1024;
            text.Append(CultureInfo.InvariantCulture, $"| {sockets:N0} | {Format(a, "F1")} | {Format(b, "F1")} | {Ratio(a, b)} |\n");
        }

        text.Append("\n## Fan-out throughput (highest delivered messages/s with delivery p99 <= ")
            .Append(report.Settings.LatencyP99LimitMilliseconds.ToString("F0", CultureInfo.InvariantCulture)).Append(" ms and nothing lost)\n\n");
        text.Append("| system | deliveries/s | stopped |\n|---|---|---|\n");
        foreach (var system in new[] { yac, baseline }.OfType<SystemReport>())
        {
            text.Append(CultureInfo.InvariantCulture, $"| {system.Name} | {Format(system.FanOut?.SaturationDeliveriesPerSecond, "N0")} | {system.FanOut?.StoppedBecause ?? Missing} |\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"\nYAC / SignalR: {Ratio(yac?.FanOut?.SaturationDeliveriesPerSecond, baseline?.FanOut?.SaturationDeliveriesPerSecond)}\n");

        text.Append("\n## Latency, send to message (all recipients; cross-instance p99 in brackets), ms\n\n");
        text.Append("| load | YAC p50 / p90 / p99 / max | SignalR p50 / p90 / p99 / max | p99 YAC / SignalR |\n|---|---|---|---|\n");
        var labels = (yac?.Latency ?? []).Concat(baseline?.Latency ?? []).Select(result => result.Label).Distinct();
        foreach (var label in labels)
        {
            var a = yac?.Latency.FirstOrDefault(result => result.Label == label)?.Step;
            var b = baseline?.Latency.FirstOrDefault(result => result.Label == label)?.Step;
            text.Append(CultureInfo.InvariantCulture, $"| {label} | {Describe(a)} | {Describe(b)} | {Ratio(a?.DeliveryLatency.P99, b?.DeliveryLatency.P99)} |\n");
        }

        text.Append("\n## Cost growth: CPU seconds per 1,000 deliveries (all measured processes; server instances only in brackets)\n\n");
        text.Append("| sockets | YAC | SignalR | YAC / SignalR |\n|---|---|---|---|\n");
        foreach (var sockets in report.Settings.CostSockets)
        {
            var a = yac?.CostGrowth.FirstOrDefault(result => result.Sockets == sockets)?.Step;
            var b = baseline?.CostGrowth.FirstOrDefault(result => result.Sockets == sockets)?.Step;
            text.Append(CultureInfo.InvariantCulture, $"| {sockets:N0} | {Cost(a)} | {Cost(b)} | {Ratio(a?.CpuSecondsPer1000Deliveries, b?.CpuSecondsPer1000Deliveries)} |\n");
        }

        foreach (var system in new[] { yac, baseline }.OfType<SystemReport>())
        {
            text.Append(CultureInfo.InvariantCulture, $"\n## Evidence: {system.Name}\n\n");
            foreach (var (name, value) in system.Facts)
            {
                text.Append(CultureInfo.InvariantCulture, $"- {name}: {value}\n");
            }

            foreach (var note in system.NotMeasured)
            {
                text.Append(CultureInfo.InvariantCulture, $"- not measured: {note}\n");
            }

            var steps = (system.FanOut?.Steps ?? []).Concat(system.Latency.Select(result => result.Step)).Concat(system.CostGrowth.Select(result => result.Step));
            foreach (var step in steps)
            {
                var cpu = string.Join(", ", step.CpuSeconds.Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Key} {entry.Value / step.WindowSeconds * 100:F0}%")));
                var counters = string.Join(", ", step.CountersPerSecond.Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Key} {entry.Value:F0}/s")));
                text.Append(CultureInfo.InvariantCulture, $"- step {step.Step}, {step.Sockets:N0} sockets, offered {step.OfferedDeliveriesPerSecond:N0}/s ({step.OfferedMessagesPerSecond:F0} msg/s): delivered {step.DeliveredPerSecond:N0}/s, p99 {step.DeliveryLatency.P99:F1} ms{(step.Complete ? "" : ", INCOMPLETE")}; CPU {cpu}, bench {step.BenchCpuSeconds / step.WindowSeconds * 100:F0}%, whole machine {step.MachineBusySeconds / step.WindowSeconds * 100:F0}% of {report.Machine.ProcessorCount * 100}%; {counters}; load {step.LoadAverageAfter:F2}\n");
            }
        }

        return text.ToString();
    }

    private static string Describe(StepResult? step) => step is null
        ? Missing
        : string.Create(CultureInfo.InvariantCulture, $"{step.DeliveryLatency.P50:F1} / {step.DeliveryLatency.P90:F1} / {step.DeliveryLatency.P99:F1} / {step.DeliveryLatency.Max:F1} [{step.CrossInstanceLatency.P99:F1}]{(step.Complete ? "" : " INCOMPLETE")}");

    private static string Cost(StepResult? step) => step is null
        ? Missing
        : string.Create(CultureInfo.InvariantCulture, $"{step.CpuSecondsPer1000Deliveries:F3} [{step.ServerCpuSecondsPer1000Deliveries:F3}]{(step.Complete ? "" : " INCOMPLETE")}");

    private static string Format(double? value, string format) => value is null ? Missing : value.Value.ToString(format, CultureInfo.InvariantCulture);

    private static string Ratio(double? yac, double? baseline) =>
        yac is null || baseline is null || baseline == 0 ? "-" : (yac.Value / baseline.Value).ToString("F2", CultureInfo.InvariantCulture);
}
