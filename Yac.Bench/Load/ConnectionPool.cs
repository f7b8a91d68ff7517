using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Yac.Bench.Load;

/// <summary>
/// Many client sockets in this one process, each connected straight to its server instance's own
/// port (no proxy in between) from one of several loopback source addresses, so tens of thousands
/// of connections do not exhaust one address's ephemeral ports. Keeps idle sockets alive with the
/// protocol's pings, spread over the ping interval.
/// </summary>
public sealed class ConnectionPool : IAsyncDisposable
{
    private const int ConnectParallelism = 32;

    private readonly IChatWireProtocol _protocol;
    private readonly IReadOnlyList<Uri> _servers;
    private readonly LoadMeter _meter;
    private readonly Dictionary<IPAddress, HttpMessageInvoker> _invokers = [];
    private readonly ConcurrentBag<ClientConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pingLoop;

    public ConnectionPool(IChatWireProtocol protocol, IReadOnlyList<Uri> servers, LoadMeter meter)
    {
        _protocol = protocol;
        _servers = servers;
        _meter = meter;
        for (var index = 0; index < BenchTopology.SourceAddressCount; index++)
        {
            var source = BenchTopology.SourceAddressOf(index);
            _invokers[source] = new HttpMessageInvoker(CreateHandler(source));
        }

        _pingLoop = PingLoopAsync(_stopping.Token);
    }

    public IReadOnlyCollection<ClientConnection> Connections => _connections;

    public int OpenCount => _connections.Count(connection => connection.IsOpen);

    /// <summary>Connects every client and waits until each session has started.</summary>
    public async Task ConnectAsync(IEnumerable<BenchClient> clients, Action<int>? onConnected, CancellationToken cancellationToken)
    {
        var connected = 0;
        await Parallel.ForEachAsync(
            clients,
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
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
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
