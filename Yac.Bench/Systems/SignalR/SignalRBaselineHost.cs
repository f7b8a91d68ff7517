using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Yac.Bench.Load;
using Yac.Bench.Measurement;

namespace Yac.Bench.Systems.SignalR;

/// <summary>
/// The baseline: a redis-server and two processes of Yac.Bench.SignalRBaseline (ASP.NET Core SignalR
/// with the Redis backplane) on that Redis, each on its own port, started and stopped by the bench.
/// </summary>
public sealed class SignalRBaselineHost : SystemUnderTest
{
    private const string BaselineAssembly = "Yac.Bench.SignalRBaseline.dll";

    private readonly List<Process> _processes = [];
    private readonly List<MeasuredProcess> _measured = [];
    private readonly List<Uri> _servers = [];
    private int _redisPort;

    private SignalRBaselineHost()
    {
    }

    public override string Name => "signalr";

    public override IReadOnlyList<Uri> Servers => _servers;

    public override IReadOnlyList<MeasuredProcess> Processes => _measured;

    public override IChatWireProtocol Protocol { get; } = new SignalRWireProtocol();

    /// <summary>Starts Redis and <paramref name="instances"/> hub processes and waits until each answers.</summary>
    public static async Task<SignalRBaselineHost> StartAsync(int instances, CancellationToken cancellationToken)
    {
        var host = new SignalRBaselineHost();
        try
        {
            await host.StartProcessesAsync(instances, cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public override Task<IReadOnlyList<BenchClient>> ProvisionAsync(BenchTopology topology, CancellationToken cancellationToken)
    {
        // No accounts and no storage: a user is a name and a chat is a SignalR group.
        var userIds = Enumerable.Range(0, topology.Users).Select(user => $"u{user}").ToList();
        var tokens = Enumerable.Repeat("", topology.Users).ToList();
        var chatIds = Enumerable.Range(0, topology.Chats).Select(chat => $"chat-{chat}").ToList();
        return Task.FromResult(topology.CreateClients(userIds, tokens, chatIds));
    }

    public override Task<IReadOnlyDictionary<string, double>> ReadCountersAsync(CancellationToken cancellationToken) =>
        RedisStats.ReadAsync("127.0.0.1", _redisPort, cancellationToken);

    public override Task<IReadOnlyDictionary<string, string>> DescribeAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>
        {
            ["server"] = "ASP.NET Core SignalR, JSON hub protocol, Microsoft.AspNetCore.SignalR.StackExchangeRedis backplane, no storage, no authentication",
            ["redis"] = "redis-server --save '' --appendonly no",
        });

    public override async ValueTask DisposeAsync()
    {
        // Hub processes first, so they do not spend their last moments reconnecting to Redis.
        for (var index = _processes.Count - 1; index >= 0; index--)
        {
            var process = _processes[index];
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await process.WaitForExitAsync(timeout.Token);
                }
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
            }

            process.Dispose();
        }

        _processes.Clear();
    }

    private async Task StartProcessesAsync(int instances, CancellationToken cancellationToken)
    {
        _redisPort = FreePort();
        var redis = Start("redis-server", ["--port", _redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], new Dictionary<string, string>());
        _measured.Add(new MeasuredProcess("redis", MeasuredProcess.SupportRole, redis.Id));
        await WaitForRedisAsync(cancellationToken);

        var assembly = Path.Combine(AppContext.BaseDirectory, BaselineAssembly);
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException("The SignalR baseline is built next to the bench; build Yac.Bench first.", assembly);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var instance = 0; instance < instances; instance++)
        {
            var url = new Uri($"http://127.0.0.1:{FreePort()}");
            var process = Start(
                "dotnet",
                [assembly, "--urls", url.ToString()],
                new Dictionary<string, string>
                {
                    ["ConnectionStrings__redis"] = $"127.0.0.1:{_redisPort}",
                    ["ASPNETCORE_ENVIRONMENT"] = "Production",
                });
            _measured.Add(new MeasuredProcess($"signalr-{instance + 1}", MeasuredProcess.ServerRole, process.Id));
            await WaitForHealthAsync(http, process, new Uri(url, "/health"), cancellationToken);
            _servers.Add(url);
        }
    }

    private Process Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        // Drain the output so a chatty server never blocks on a full pipe.
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private async Task WaitForRedisAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var counters = await RedisStats.ReadAsync("127.0.0.1", _redisPort, deadline.Token);
            if (counters.Count > 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
        }
    }

    private static async Task WaitForHealthAsync(HttpClient http, Process process, Uri health, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The SignalR baseline exited with code {process.ExitCode} before it answered.");
            }

            try
            {
                using var response = await http.GetAsync(health, deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
