using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Yac.Bench.Load;

/// <summary>
/// Counts what the load did, per step. Every send's clientMsgId carries its step, the sending
/// socket's server instance and the time it was due, so a delivery that arrives late is still
/// counted in the step that caused it and its latency includes any time the sender fell behind.
/// </summary>
public sealed class LoadMeter
{
    private readonly ConcurrentDictionary<int, StepCounters> _steps = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private long _foreignFrames;
    private long _closedSockets;

    /// <summary>The counters of one step, created on first use.</summary>
    public StepCounters Step(int step) => _steps.GetOrAdd(step, static _ => new StepCounters());

    public long ClosedSockets => Interlocked.Read(ref _closedSockets);

    public long ForeignFrames => Interlocked.Read(ref _foreignFrames);

    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>What this process's sockets received per step, for a worker to hand to the main process.</summary>
    public Dictionary<int, RemoteStepData> ExportSteps() => _steps.ToDictionary(
        entry => entry.Key,
        entry => new RemoteStepData(entry.Value.Delivered, entry.Value.Delivery.Export(), entry.Value.CrossInstance.Export()));

    public static string CreateClientMsgId(int step, int senderSocket, int senderServer, long dueTimestamp) =>
        string.Create(CultureInfo.InvariantCulture, $"b{step}.{senderSocket}.{senderServer}.{dueTimestamp}");

    public void OnDelivered(ReadOnlySpan<byte> clientMsgId, int receiverServer)
    {
        if (!TryParse(clientMsgId, out var step, out var senderServer, out var due))
        {
            Interlocked.Increment(ref _foreignFrames);
            return;
        }

        var micros = ElapsedMicrosSince(due);
        var counters = Step(step);
        counters.CountDelivered();
        counters.Delivery.Record(micros);
        if (senderServer != receiverServer)
        {
            counters.CrossInstance.Record(micros);
        }
    }

    public void OnAcked(ReadOnlySpan<byte> clientMsgId)
    {
        if (!TryParse(clientMsgId, out var step, out _, out var due))
        {
            Interlocked.Increment(ref _foreignFrames);
            return;
        }

        var counters = Step(step);
        counters.CountAcked();
        counters.Ack.Record(ElapsedMicrosSince(due));
    }

    public void OnError(string code) => _errors.AddOrUpdate(code, 1, static (_, count) => count + 1);

    public void OnSocketClosed() => Interlocked.Increment(ref _closedSockets);

    private static long ElapsedMicrosSince(long timestamp) =>
        (long)Stopwatch.GetElapsedTime(timestamp).TotalMicroseconds;

    private static bool TryParse(ReadOnlySpan<byte> clientMsgId, out int step, out int senderServer, out long due)
    {
        step = 0;
        senderServer = 0;
        due = 0;
        if (clientMsgId.Length < 2 || clientMsgId[0] != (byte)'b')
        {
            return false;
        }

        var rest = clientMsgId[1..];
        if (!Utf8Parser.TryParse(rest, out step, out var consumed) || !Skip(ref rest, consumed)
            || !Utf8Parser.TryParse(rest, out int _, out consumed) || !Skip(ref rest, consumed)
            || !Utf8Parser.TryParse(rest, out senderServer, out consumed) || !Skip(ref rest, consumed))
        {
            return false;
        }

        return Utf8Parser.TryParse(rest, out due, out consumed) && consumed == rest.Length;
    }

    private static bool Skip(ref ReadOnlySpan<byte> rest, int consumed)
    {
        if (consumed >= rest.Length || rest[consumed] != (byte)'.')
        {
            return false;
        }

        rest = rest[(consumed + 1)..];
        return true;
    }
}

/// <summary>Deliveries a worker process's sockets received in one step.</summary>
public sealed record RemoteStepData(long Delivered, HistogramData Delivery, HistogramData CrossInstance);

/// <summary>What one step sent and received; many receive loops count into it at once.</summary>
public sealed class StepCounters
{
    private long _sent;
    private long _skippedBusy;
    private long _sendFailed;
    private long _acked;
    private long _delivered;

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Sends not made because the socket was still busy with earlier ones (the client fell behind).</summary>
    public long SkippedBusy => Interlocked.Read(ref _skippedBusy);

    public long SendFailed => Interlocked.Read(ref _sendFailed);

    public long Acked => Interlocked.Read(ref _acked);

    public long Delivered => Interlocked.Read(ref _delivered);

    public LatencyHistogram Delivery { get; } = new();

    public LatencyHistogram CrossInstance { get; } = new();

    public LatencyHistogram Ack { get; } = new();

    public void CountSent() => Interlocked.Increment(ref _sent);

    public void CountSkippedBusy() => Interlocked.Increment(ref _skippedBusy);

    public void CountSendFailed() => Interlocked.Increment(ref _sendFailed);

    public void CountAcked() => Interlocked.Increment(ref _acked);

    public void CountDelivered() => Interlocked.Increment(ref _delivered);
}
