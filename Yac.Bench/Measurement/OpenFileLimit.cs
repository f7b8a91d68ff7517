using System.Runtime.InteropServices;

namespace Yac.Bench.Measurement;

/// <summary>
/// Raises this process's open-file limit so 20,000 client sockets fit; the servers the bench
/// starts inherit it. Linux only (the bench measures through /proc anyway).
/// </summary>
public static partial class OpenFileLimit
{
    private const int ResourceNumberOfFiles = 7;

    /// <summary>Raises soft and hard limits to at least <paramref name="wanted"/>; returns (before, after).</summary>
    public static (ulong Before, ulong After) Raise(ulong wanted)
    {
        if (!OperatingSystem.IsLinux() || GetResourceLimit(ResourceNumberOfFiles, out var limit) != 0)
        {
            return (0, 0);
        }

        var before = limit.Current;
        if (limit.Current >= wanted)
        {
            return (before, before);
        }

        var raised = new ResourceLimit { Current = wanted, Maximum = Math.Max(wanted, limit.Maximum) };
        if (SetResourceLimit(ResourceNumberOfFiles, in raised) != 0)
        {
            // Not privileged to raise the hard limit: take what the hard limit allows.
            raised = new ResourceLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            _ = SetResourceLimit(ResourceNumberOfFiles, in raised);
        }

        return GetResourceLimit(ResourceNumberOfFiles, out limit) == 0 ? (before, limit.Current) : (before, before);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetResourceLimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetResourceLimit(int resource, in ResourceLimit limit);
}
