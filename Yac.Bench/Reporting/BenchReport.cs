using Yac.Bench.Systems.Yac;
using Yac.Bench.Load;
using Yac.Bench.Measurement;

namespace Yac.Bench.Reporting;

/// <summary>Everything one bench run measured, written as JSON next to the chart and the summary.</summary>
public sealed record BenchReport(
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Mode,
    MachineInfo Machine,
    RunConditions Conditions,
    BenchSettings Settings,
    IReadOnlyList<SystemReport> Systems);

/// <summary>How the clients were set up, and how busy the machine was apart from the run.</summary>
public sealed record RunConditions(
    ulong OpenFileLimitBefore,
    ulong OpenFileLimitAfter,
    IReadOnlyList<string> SourceAddresses,
    double LoadAverageAtStart,
    double LoadAverageAtEnd,
    string Note);

/// <summary>The shape of the load; identical for every system in a run.</summary>
public sealed record BenchSettings(
    int Users,
    int MembersPerChat,
    int MessageBytes,
    int ServerInstances,
    double StepSeconds,
    IReadOnlyList<int> IdleSockets,
    IReadOnlyList<double> FanOutLadder,
    double LatencyP99LimitMilliseconds,
    IReadOnlyList<double> LatencyRates,
    IReadOnlyList<int> CostSockets,
    double CostDeliveriesPerSecond,
    double IdleHoldSeconds = 0,
    double YacTraceRatio = YacTelemetry.DefaultTraceRatio);

/// <summary>One system's results per scenario.</summary>
public sealed class SystemReport
{
    public required string Name { get; init; }
    public Dictionary<string, string> Facts { get; init; } = [];
    public List<ProcessInfo> Processes { get; init; } = [];
    public List<IdleMemoryResult> IdleMemory { get; init; } = [];
    public FanOutResult? FanOut { get; set; }
    public List<LatencyResult> Latency { get; init; } = [];
    public List<CostResult> CostGrowth { get; init; } = [];

    /// <summary>Why a scenario has no numbers, when it has none.</summary>
    public List<string> NotMeasured { get; init; } = [];
}

public sealed record ProcessInfo(string Label, string Role, int Pid, string CommandLine);

/// <summary>Server memory per idle socket: the servers' resident memory growth divided by the sockets.</summary>
public sealed record IdleMemoryResult(
    int Sockets,
    int Users,
    int SocketsPerUser,
    int OpenSockets,
    long ServerRssBeforeBytes,
    long ServerRssAfterBytes,
    double ServerBytesPerSocket,
    long SupportRssDeltaBytes,
    double SecondsToConnect,
    double LoadAverage);

/// <summary>Fan-out steps at rising rates; the saturation is the highest delivered rate of a passing step.</summary>
public sealed record FanOutResult(IReadOnlyList<StepResult> Steps, double SaturationDeliveriesPerSecond, string StoppedBecause);

public sealed record LatencyResult(string Label, StepResult Step);

public sealed record CostResult(int Sockets, int SocketsPerUser, StepResult Step);
