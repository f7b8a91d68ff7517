using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Yac.Bench.Load;

/// <summary>
/// Many client sockets in this one process, each connected straight to its server instance's own
/// port (no proxy in between) from one of several loopback source addresses, so tens of thousands
/// of connections do not exhaust one address's ephemeral ports. Keeps idle sockets alive with the
/// protocol's pings, spread over the ping interval. Sockets beyond <see cref="LocalCapacity"/> go to
/// worker processes (<see cref="SocketWorker"/>): the first sockets, which include every sender, stay here.
/// </summary>
public sealed class ConnectionPool : IAsyncDisposable
{
    /// <summary>Sockets one process holds; the open-file limit here is 20,000 and cannot be raised.</summary>
    public const int LocalCapacity = 15_000;

    private const int ConnectParallelism = 32;

    private readonly IChatWireProtocol _protocol;
    private readonly string _system;
    private readonly bool _allowWorkers;
    private readonly List<SocketWorker> _workers = [];
    private readonly IReadOnlyList<Uri> _servers;
    private readonly LoadMeter _meter;
    private readonly Dictionary<IPAddress, HttpMessageInvoker> _invokers = [];
    private readonly ConcurrentBag<ClientConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pingLoop;

    public ConnectionPool(IChatWireProtocol protocol, string system, IReadOnlyList<Uri> servers, LoadMeter meter, bool allowWorkers = true)
    {
        _protocol = protocol;
        _system = system;
        _allowWorkers = allowWorkers;
        _servers = servers;
        _meter = meter;
        for (var index = 0; index < BenchTopology.SourceAddressCount; index++)
        {
            var source = BenchTopology.SourceAddressOf(index);
            _invokers[source] = new HttpMessageInvoker(CreateHandler(source));
        }

        _pingLoop = PingLoopAsync(_stopping.Token);
    }

    /// <summary>The sockets this process holds.</summary>
    public IReadOnlyCollection<ClientConnection> Connections => _connections;

    public int LocalOpenCount => _connections.Count(connection => connection.IsOpen);

    public bool HasWorkers => _workers.Count > 0;

    /// <summary>Open sockets here and in every worker.</summary>
    public async Task<int> CountOpenAsync(CancellationToken cancellationToken) =>
        LocalOpenCount + (await ReportRemoteAsync(cancellationToken)).Sum(report => report.Open);

    /// <summary>What each worker's sockets received so far.</summary>
    public async Task<IReadOnlyList<WorkerReport>> ReportRemoteAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(_workers.Select(worker => worker.ReportAsync(cancellationToken)));

    /// <summary>Connects every client and waits until each session has started.</summary>
    public async Task ConnectAsync(IEnumerable<BenchClient> clients, Action<int>? onConnected, CancellationToken cancellationToken)
    {
        var all = clients.ToList();
        var localShare = _allowWorkers ? Math.Max(0, Math.Min(all.Count, LocalCapacity - _connections.Count)) : all.Count;
        var connected = 0;
        foreach (var chunk in all.Skip(localShare).Chunk(LocalCapacity))
        {
            var worker = SocketWorker.Start(_system);
            _workers.Add(worker);
            var report = await worker.ConnectAsync(_servers, chunk, cancellationToken);
            onConnected?.Invoke(Interlocked.Add(ref connected, report.Open));
        }

        await Parallel.ForEachAsync(
            all.Take(localShare),
            new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = cancellationToken },
            async (client, token) =>
            {
                var connection = new ClientConnection(client, _protocol, _meter);
                _connections.Add(connection);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                await connection.ConnectAsync(_servers[client.ServerIndex], _invokers[client.SourceAddress], timeout.Token);
                onConnected?.Invoke(Interlocked.Increment(ref connected));
            });
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _pingLoop;
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }

        await Parallel.ForEachAsync(
            _connections,
            new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (connection, _) => await connection.DisposeAsync());
        foreach (var invoker in _invokers.Values)
        {
            invoker.Dispose();
        }

        _stopping.Dispose();
    }

    private static SocketsHttpHandler CreateHandler(IPAddress source) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                // The socket is IPv4 (bound to 127.0.0.x): "localhost" must not resolve to ::1.
                var target = IPAddress.TryParse(context.DnsEndPoint.Host, out var address)
                    ? address
                    : (await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, AddressFamily.InterNetwork, cancellationToken))[0];
                await socket.ConnectAsync(new IPEndPoint(target, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private async Task PingLoopAsync(CancellationToken cancellationToken)
    {
        // Each second, ping the slice of sockets whose turn it is, so every socket is pinged once per interval.
        var slices = Math.Max(1, (int)_protocol.PingInterval.TotalSeconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var slice = tick++ % slices;
                foreach (var connection in _connections)
                {
                    if (connection.Client.Index % slices == slice)
                    {
                        await connection.PingAsync(cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
