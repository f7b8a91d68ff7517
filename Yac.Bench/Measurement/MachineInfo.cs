using System.Globalization;
using System.Runtime.InteropServices;

namespace Yac.Bench.Measurement;

/// <summary>What machine and what load the numbers were measured on.</summary>
public sealed record MachineInfo(int ProcessorCount, string CpuModel, long MemoryBytes, string Kernel, string Runtime)
{
    public static MachineInfo Read()
    {
        var cpuModel = ReadFirst("/proc/cpuinfo", "model name")?.Split(':', 2)[1].Trim() ?? "unknown";
        var memoryKilobytes = ReadFirst("/proc/meminfo", "MemTotal")?.Split(':', 2)[1].Trim().Split(' ')[0];
        return new MachineInfo(
            Environment.ProcessorCount,
            cpuModel,
            memoryKilobytes is null ? 0 : long.Parse(memoryKilobytes, CultureInfo.InvariantCulture) * 1024,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription);
    }

    /// <summary>The 1-minute load average: how busy the machine was apart from this run.</summary>
    public static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>CPU seconds the whole machine spent busy so far (all cores; from /proc/stat).</summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal ...
        long busy = 0;
        for (var index = 1; index < fields.Length && index <= 8; index++)
        {
            if (index is 4 or 5)
            {
                continue;
            }

            busy += long.Parse(fields[index], CultureInfo.InvariantCulture);
        }

        return busy / 100.0;
    }

    private static string? ReadFirst(string path, string prefix)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return null;
        }
    }
}
