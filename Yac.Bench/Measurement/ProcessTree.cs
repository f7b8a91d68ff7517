using System.Globalization;

namespace Yac.Bench.Measurement;

/// <summary>
/// CPU time and resident memory of a process together with all its descendants, read from /proc.
/// A whole tree, because the orchestrator starts services through <c>dotnet run</c> (the server is
/// a child) and PostgreSQL serves each connection from a forked backend.
/// </summary>
public static class ProcessTree
{
    private static readonly double s_ticksPerSecond = 100.0;

    public static ProcessSample Sample(int rootPid)
    {
        var children = ChildrenByParent();
        double cpuSeconds = 0;
        long rssBytes = 0;
        var pending = new Stack<int>();
        pending.Push(rootPid);
        while (pending.Count > 0)
        {
            var pid = pending.Pop();
            if (TryReadStat(pid, out var cpu) && TryReadRss(pid, out var rss))
            {
                cpuSeconds += cpu;
                rssBytes += rss;
            }

            if (children.TryGetValue(pid, out var list))
            {
                foreach (var child in list)
                {
                    pending.Push(child);
                }
            }
        }

        return new ProcessSample(cpuSeconds, rssBytes);
    }

    /// <summary>The command line of a process, for the record; empty if it is gone.</summary>
    public static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static Dictionary<int, List<int>> ChildrenByParent()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || !TryReadStatFields(pid, out var fields))
            {
                continue;
            }

            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (!children.TryGetValue(parent, out var list))
            {
                children[parent] = list = [];
            }

            list.Add(pid);
        }

        return children;
    }

    private static bool TryReadStat(int pid, out double cpuSeconds)
    {
        cpuSeconds = 0;
        if (!TryReadStatFields(pid, out var fields))
        {
            return false;
        }

        // After the command name: state(0) ppid(1) ... utime(11) stime(12).
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        cpuSeconds = ticks / s_ticksPerSecond;
        return true;
    }

    private static bool TryReadStatFields(int pid, out string[] fields)
    {
        fields = [];
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may contain spaces; fields follow the last ')'.
            var afterName = stat[(stat.LastIndexOf(')') + 2)..];
            fields = afterName.Split(' ');
            return fields.Length > 12;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryReadRss(int pid, out long bytes)
    {
        bytes = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    bytes = kilobytes * 1024;
                    return true;
                }
            }

            // A zombie or kernel thread has no VmRSS: it holds no memory.
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>CPU seconds used so far and resident memory now.</summary>
public sealed record ProcessSample(double CpuSeconds, long RssBytes);

/// <summary>A process the bench measures, with its role in the system under test.</summary>
/// <param name="Label">A short name (<c>gateway-1</c>, <c>postgres</c>).</param>
/// <param name="Role"><c>server</c> for what holds the sockets, <c>support</c> for what they depend on.</param>
/// <param name="Pid">The root of the process tree.</param>
public sealed record MeasuredProcess(string Label, string Role, int Pid)
{
    public const string ServerRole = "server";
    public const string SupportRole = "support";
}
