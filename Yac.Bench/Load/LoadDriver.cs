using System.Diagnostics;
using System.Globalization;
using Yac.Bench.Measurement;
using Yac.Bench.Systems;

namespace Yac.Bench.Load;

/// <summary>
/// Offers messages at a fixed rate: every member's sender socket sends in turn, evenly spaced, to
/// its chat. Each step measures deliveries, latencies and CPU in a steady window, then waits for the
/// stragglers so completeness can be checked.
/// </summary>
public sealed class LoadDriver(SystemUnderTest system, ConnectionPool pool, LoadMeter meter, BenchTopology topology, string text, Action<string> progress)
{
    private static int s_nextStep;

    /// <summary>
    /// Sends at <paramref name="deliveriesPerSecond"/> (counting each recipient socket) for
    /// <paramref name="duration"/>, then waits up to <paramref name="drainTimeout"/> for every delivery.
    /// </summary>
    public async Task<StepResult> RunAsync(string label, double deliveriesPerSecond, TimeSpan duration, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        var step = Interlocked.Increment(ref s_nextStep);
        var counters = meter.Step(step);
        var senders = pool.Connections.Where(connection => connection.Client.IsSender).OrderBy(connection => connection.Client.Index).ToList();
        if (senders.Count == 0)
        {
            throw new InvalidOperationException("No sender sockets are connected.");
        }

        var messagesPerSecond = deliveriesPerSecond / topology.DeliveriesPerMessage;
        var scheduled = Math.Max(1, (long)Math.Round(messagesPerSecond * duration.TotalSeconds));
        var warmup = TimeSpan.FromSeconds(Math.Min(1.0, duration.TotalSeconds / 4));
        var errorsBefore = meter.Errors.ToDictionary(entry => entry.Key, entry => entry.Value);

        var countersBefore = await system.ReadCountersAsync(cancellationToken);
        var loadBefore = MachineInfo.LoadAverage();
        ResourceSnapshot? windowStart = null;
        long deliveredAtWindowStart = 0;
        var lastReport = ResourceSnapshot.Take(system.Processes);
        long deliveredAtLastReport = 0;

        var start = Stopwatch.GetTimestamp();
        long issued = 0;
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5)))
        {
            while (issued < scheduled && await timer.WaitForNextTickAsync(cancellationToken))
            {
                var elapsed = Stopwatch.GetElapsedTime(start);
                var due = Math.Min(scheduled, (long)(elapsed.TotalSeconds * messagesPerSecond));
                for (; issued < due; issued++)
                {
                    var sender = senders[(int)(issued % senders.Count)];
                    // Latency runs from when the send was due, so a sender that falls behind shows up in it.
                    var dueTimestamp = start + (long)(issued / messagesPerSecond * Stopwatch.Frequency);
                    var clientMsgId = LoadMeter.CreateClientMsgId(step, sender.Client.Index, sender.Client.ServerIndex, dueTimestamp);
                    sender.TrySend(system.Protocol.EncodeSend(sender.Client.ChatId, clientMsgId, text), counters);
                }

                if (windowStart is null && elapsed >= warmup)
                {
                    windowStart = ResourceSnapshot.Take(system.Processes);
                    deliveredAtWindowStart = counters.Delivered + await RemoteDeliveredAsync(step, cancellationToken);
                }

                if (Stopwatch.GetElapsedTime(lastReport.Timestamp) >= TimeSpan.FromSeconds(2))
                {
                    var now = ResourceSnapshot.Take(system.Processes);
                    var deliveredSoFar = counters.Delivered + await RemoteDeliveredAsync(step, cancellationToken);
                    progress(DescribeProgress(label, elapsed, counters, deliveredSoFar - deliveredAtLastReport, now, lastReport));
                    lastReport = now;
                    deliveredAtLastReport = deliveredSoFar;
                }
            }
        }

        var windowEnd = ResourceSnapshot.Take(system.Processes);
        var deliveredAtWindowEnd = counters.Delivered + await RemoteDeliveredAsync(step, cancellationToken);
        var countersAfter = await system.ReadCountersAsync(cancellationToken);
        windowStart ??= lastReport;
        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        await DrainAsync(step, counters, scheduled, drainTimeout, cancellationToken);
        var remote = (await pool.ReportRemoteAsync(cancellationToken))
            .Select(report => report.Steps.GetValueOrDefault(step))
            .OfType<RemoteStepData>()
            .ToList();
        var delivered = counters.Delivered + remote.Sum(data => data.Delivered);
        var delivery = counters.Delivery.MergedWith(remote.Select(data => data.Delivery));
        var crossInstance = counters.CrossInstance.MergedWith(remote.Select(data => data.CrossInstance));

        var windowSeconds = Math.Max(0.001, windowEnd.SecondsSince(windowStart));
        var windowDeliveries = deliveredAtWindowEnd - deliveredAtWindowStart;
        var cpu = windowEnd.CpuSecondsSince(windowStart);
        var serverCpu = system.Processes.Where(process => process.Role == MeasuredProcess.ServerRole).Sum(process => cpu.GetValueOrDefault(process.Label));
        var expected = counters.Acked * topology.DeliveriesPerMessage;
        var errors = meter.Errors
            .Select(entry => (entry.Key, Count: entry.Value - errorsBefore.GetValueOrDefault(entry.Key)))
            .Where(entry => entry.Count > 0)
            .ToDictionary(entry => entry.Key, entry => entry.Count);
        var countersSeconds = Math.Max(0.001, sendSeconds);

        return new StepResult
        {
            Step = step,
            Sockets = topology.Sockets,
            OpenSockets = await pool.CountOpenAsync(cancellationToken),
            DeliveriesPerMessage = topology.DeliveriesPerMessage,
            OfferedDeliveriesPerSecond = deliveriesPerSecond,
            OfferedMessagesPerSecond = messagesPerSecond,
            MessagesPerSecondPerMember = messagesPerSecond / senders.Count,
            SendSeconds = Math.Round(sendSeconds, 3),
            Scheduled = scheduled,
            Sent = counters.Sent,
            SkippedBusy = counters.SkippedBusy,
            SendFailed = counters.SendFailed,
            Acked = counters.Acked,
            Delivered = delivered,
            ExpectedDeliveries = expected,
            Complete = counters.Acked == scheduled && delivered == expected,
            Errors = errors,
            DeliveredPerSecond = Math.Round(windowDeliveries / windowSeconds, 1),
            DeliveryLatency = delivery.Summarize(),
            CrossInstanceLatency = crossInstance.Summarize(),
            AckLatency = counters.Ack.Summarize(),
            WindowSeconds = Math.Round(windowSeconds, 3),
            CpuSeconds = cpu,
            BenchCpuSeconds = Math.Round(windowEnd.BenchCpuSeconds - windowStart.BenchCpuSeconds, 3),
            MachineBusySeconds = Math.Round(windowEnd.MachineBusySeconds - windowStart.MachineBusySeconds, 3),
            CountersPerSecond = countersAfter.ToDictionary(
                entry => entry.Key,
                entry => Math.Round((entry.Value - countersBefore.GetValueOrDefault(entry.Key)) / countersSeconds, 1)),
            LoadAverageBefore = loadBefore,
            LoadAverageAfter = MachineInfo.LoadAverage(),
            CpuSecondsPer1000Deliveries = windowDeliveries == 0 ? 0 : Math.Round(cpu.Values.Sum() / windowDeliveries * 1000, 4),
            ServerCpuSecondsPer1000Deliveries = windowDeliveries == 0 ? 0 : Math.Round(serverCpu / windowDeliveries * 1000, 4),
        };
    }

    private async Task<long> RemoteDeliveredAsync(int step, CancellationToken cancellationToken) => pool.HasWorkers
        ? (await pool.ReportRemoteAsync(cancellationToken)).Sum(report => report.Steps.GetValueOrDefault(step)?.Delivered ?? 0)
        : 0;

    private async Task DrainAsync(int step, StepCounters counters, long scheduled, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(drainTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var allSendsDone = counters.Sent + counters.SkippedBusy + counters.SendFailed >= scheduled;
            if (allSendsDone && counters.Acked >= counters.Sent
                && counters.Delivered + await RemoteDeliveredAsync(step, cancellationToken) >= counters.Acked * topology.DeliveriesPerMessage)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(pool.HasWorkers ? 250 : 50), cancellationToken);
        }
    }

    private static string DescribeProgress(string label, TimeSpan elapsed, StepCounters counters, long deliveredSinceLast, ResourceSnapshot now, ResourceSnapshot last)
    {
        var seconds = Math.Max(0.001, now.SecondsSince(last));
        var cpu = string.Join(" ", now.CpuSecondsSince(last).Select(entry => string.Create(CultureInfo.InvariantCulture, $"{entry.Key}={entry.Value / seconds * 100:F0}%")));
        var bench = (now.BenchCpuSeconds - last.BenchCpuSeconds) / seconds * 100;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"  {label} t={elapsed.TotalSeconds:F0}s sent={counters.Sent} acked={counters.Acked} delivered/s={deliveredSinceLast / seconds:F0} p99={counters.Delivery.PercentileMilliseconds(99):F1}ms cpu: {cpu} bench={bench:F0}% load={now.LoadAverage:F2}");
    }
}
