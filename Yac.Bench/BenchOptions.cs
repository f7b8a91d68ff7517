using System.Globalization;
using Yac.Bench.Reporting;
using Yac.Bench.Systems.Yac;

namespace Yac.Bench;

/// <summary>Command-line options: <c>run</c> (the full comparison) or <c>smoke</c> (seconds, small N).</summary>
public sealed record BenchOptions(string Mode, IReadOnlyList<string> Systems, IReadOnlyList<string> Scenarios, BenchSettings Settings, string OutputDirectory, double? YacSaturation)
{
    public const string Usage = """
        Yac.Bench: YAC against an ASP.NET Core SignalR + Redis backplane baseline, same topology.

        dotnet run -c Release --project Yac.Bench -- run   [options]   the full comparison (20-40 min)
        dotnet run -c Release --project Yac.Bench -- smoke [options]   seconds, small N; exit code 1 if anything is lost

        --systems yac,signalr            which systems (YAC first: its saturation sets the latency rate)
        --scenarios idle,fanout,latency,cost
        --users 1000                     users (10-member chats); more sockets than users = several sockets per user
        --idle-sockets 1000,5000,20000
        --idle-hold-seconds 0            keep the idle sockets open this long after the last step (to profile the servers)
        --cost-sockets 1000,5000,20000
        --cost-rate 10000                deliveries/s for the cost-growth steps
        --latency-rate 10000             an extra fixed latency rate besides half of YAC's saturation
        --ladder 2000,5000,10000,...     offered deliveries/s of the fan-out steps
        --step-seconds 10
        --message-bytes 100
        --yac-saturation N               YAC's saturation from an earlier run (when YAC is not in --systems)
        --yac-trace-ratio 0.01           share of YAC's messages traced end to end (1 = every message, as in development)
        --out bench-results
        """;

    private static readonly double[] s_defaultLadder = [2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 130_000, 160_000];

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("run" or "smoke"))
        {
            throw new ArgumentException(Usage);
        }

        var mode = args[0];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var index = 1; index < args.Length; index++)
        {
            if (!args[index].StartsWith("--", StringComparison.Ordinal) || index + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument '{args[index]}'.\n\n{Usage}");
            }

            values[args[index][2..]] = args[++index];
        }

        var smoke = mode == "smoke";
        var settings = new BenchSettings(
            Users: Int(values, "users", smoke ? 20 : 1000),
            MembersPerChat: 10,
            MessageBytes: Int(values, "message-bytes", 100),
            ServerInstances: 2,
            StepSeconds: Double(values, "step-seconds", smoke ? 2 : 10),
            IdleSockets: Ints(values, "idle-sockets", smoke ? [20, 40] : [1_000, 5_000, 20_000]),
            FanOutLadder: Doubles(values, "ladder", smoke ? [200, 400] : s_defaultLadder),
            LatencyP99LimitMilliseconds: 1000,
            LatencyRates: [Double(values, "latency-rate", smoke ? 200 : 10_000)],
            CostSockets: Ints(values, "cost-sockets", smoke ? [20, 40] : [1_000, 5_000, 20_000]),
            CostDeliveriesPerSecond: Double(values, "cost-rate", smoke ? 200 : 10_000),
            IdleHoldSeconds: Double(values, "idle-hold-seconds", 0),
            YacTraceRatio: Double(values, "yac-trace-ratio", YacTelemetry.DefaultTraceRatio));
        return new BenchOptions(
            mode,
            List(values, "systems", ["yac", "signalr"]),
            List(values, "scenarios", smoke ? ["smoke"] : ["idle", "fanout", "latency", "cost"]),
            settings,
            values.GetValueOrDefault("out", "bench-results"),
            values.TryGetValue("yac-saturation", out var saturation) ? double.Parse(saturation, CultureInfo.InvariantCulture) : null);
    }

    private static List<string> List(Dictionary<string, string> values, string name, List<string> fallback) =>
        values.TryGetValue(name, out var value) ? [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : fallback;

    private static int Int(Dictionary<string, string> values, string name, int fallback) =>
        values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static double Double(Dictionary<string, string> values, string name, double fallback) =>
        values.TryGetValue(name, out var value) ? double.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static List<int> Ints(Dictionary<string, string> values, string name, List<int> fallback) =>
        values.TryGetValue(name, out var value) ? [.. value.Split(',').Select(item => int.Parse(item, CultureInfo.InvariantCulture))] : fallback;

    private static List<double> Doubles(Dictionary<string, string> values, string name, IEnumerable<double> fallback) =>
        values.TryGetValue(name, out var value) ? [.. value.Split(',').Select(item => double.Parse(item, CultureInfo.InvariantCulture))] : [.. fallback];
}
