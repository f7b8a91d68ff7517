using Yac.Bench.Load;
using Yac.Bench.Measurement;

namespace Yac.Bench.Systems;

/// <summary>
/// A running chat system the bench loads: its server instances (each on its own port), the
/// processes to measure, its wire protocol, and how to create users and chats in it.
/// </summary>
public abstract class SystemUnderTest : IAsyncDisposable
{
    /// <summary><c>yac</c> or <c>signalr</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Each server instance's own address, in instance order.</summary>
    public abstract IReadOnlyList<Uri> Servers { get; }

    /// <summary>Server and support processes; empty when the bench did not start the system.</summary>
    public abstract IReadOnlyList<MeasuredProcess> Processes { get; }

    public abstract IChatWireProtocol Protocol { get; }

    /// <summary>Creates (or reuses) the users and chats of <paramref name="topology"/>; returns its clients.</summary>
    public abstract Task<IReadOnlyList<BenchClient>> ProvisionAsync(BenchTopology topology, CancellationToken cancellationToken);

    /// <summary>Cumulative counters that show what bounds a figure (database commits, Redis commands).</summary>
    public virtual Task<IReadOnlyDictionary<string, double>> ReadCountersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, double>>(new Dictionary<string, double>());

    /// <summary>Facts about the setup to record with the results (durability settings, versions).</summary>
    public virtual Task<IReadOnlyDictionary<string, string>> DescribeAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    public abstract ValueTask DisposeAsync();
}
