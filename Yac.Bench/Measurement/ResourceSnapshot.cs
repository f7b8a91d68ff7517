using System.Diagnostics;
using Yac.Bench.Load;

namespace Yac.Bench.Measurement;

/// <summary>CPU and memory of every measured process, the bench itself and the whole machine at one moment.</summary>
public sealed record ResourceSnapshot(
    long Timestamp,
    IReadOnlyDictionary<string, ProcessSample> Processes,
    double BenchCpuSeconds,
    double MachineBusySeconds,
    double LoadAverage)
{
    public static ResourceSnapshot Take(IReadOnlyList<MeasuredProcess> processes)
    {
        var samples = processes.ToDictionary(process => process.Label, process => ProcessTree.Sample(process.Pid));
        using var self = Process.GetCurrentProcess();
        // The bench's own CPU includes its worker processes (they hold sockets beyond one process's limit).
        var workers = SocketWorker.RunningPids.Sum(pid => ProcessTree.Sample(pid).CpuSeconds);
        return new ResourceSnapshot(
            Stopwatch.GetTimestamp(),
            samples,
            self.TotalProcessorTime.TotalSeconds + workers,
            MachineInfo.MachineBusySeconds(),
            MachineInfo.LoadAverage());
    }

    /// <summary>CPU seconds each process used between <paramref name="earlier"/> and this snapshot.</summary>
    public IReadOnlyDictionary<string, double> CpuSecondsSince(ResourceSnapshot earlier) =>
        Processes.ToDictionary(
            entry => entry.Key,
            entry => Math.Round(entry.Value.CpuSeconds - (earlier.Processes.TryGetValue(entry.Key, out var before) ? before.CpuSeconds : 0), 3));

    public double SecondsSince(ResourceSnapshot earlier) => Stopwatch.GetElapsedTime(earlier.Timestamp, Timestamp).TotalSeconds;

    /// <summary>Resident memory of the processes with <paramref name="role"/>, summed.</summary>
    public long RssOf(IReadOnlyList<MeasuredProcess> processes, string role) =>
        processes.Where(process => process.Role == role).Sum(process => Processes.TryGetValue(process.Label, out var sample) ? sample.RssBytes : 0);
}
