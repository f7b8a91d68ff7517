namespace Yac.Bench.Load;

/// <summary>What one load step offered, what arrived, how fast, and what it cost in CPU.</summary>
public sealed record StepResult
{
    public required int Step { get; init; }
    public required int Sockets { get; init; }
    public required int OpenSockets { get; init; }
    public required int DeliveriesPerMessage { get; init; }
    public required double OfferedDeliveriesPerSecond { get; init; }
    public required double OfferedMessagesPerSecond { get; init; }
    public required double MessagesPerSecondPerMember { get; init; }
    public required double SendSeconds { get; init; }
    public required long Scheduled { get; init; }
    public required long Sent { get; init; }
    public required long SkippedBusy { get; init; }
    public required long SendFailed { get; init; }
    public required long Acked { get; init; }
    public required long Delivered { get; init; }
    public required long ExpectedDeliveries { get; init; }

    /// <summary>Every acked message reached every socket of every member.</summary>
    public required bool Complete { get; init; }
    public required IReadOnlyDictionary<string, int> Errors { get; init; }

    /// <summary>Deliveries per second in the steady window (after the first second of sending).</summary>
    public required double DeliveredPerSecond { get; init; }
    public required LatencySummary DeliveryLatency { get; init; }

    /// <summary>From <c>send</c> to <c>message</c> on a socket held by another server instance.</summary>
    public required LatencySummary CrossInstanceLatency { get; init; }
    public required LatencySummary AckLatency { get; init; }
    public required double WindowSeconds { get; init; }

    /// <summary>CPU seconds of each measured process in the steady window.</summary>
    public required IReadOnlyDictionary<string, double> CpuSeconds { get; init; }
    public required double BenchCpuSeconds { get; init; }

    /// <summary>CPU seconds the whole machine was busy in the window (all processes, others' included).</summary>
    public required double MachineBusySeconds { get; init; }

    /// <summary>Per-second rates of the system's own counters in the window (Postgres commits, Redis commands).</summary>
    public required IReadOnlyDictionary<string, double> CountersPerSecond { get; init; }
    public required double LoadAverageBefore { get; init; }
    public required double LoadAverageAfter { get; init; }

    /// <summary>CPU seconds of all measured processes per 1,000 deliveries in the window.</summary>
    public required double CpuSecondsPer1000Deliveries { get; init; }

    /// <summary>The same, server instances only (gateway replicas or SignalR hubs).</summary>
    public required double ServerCpuSecondsPer1000Deliveries { get; init; }
}
