using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Yac.Bench.Load;

/// <summary>
/// A child process of the bench that holds a share of the client sockets. One process may hold only
/// 20,000 open files here (a hard limit that cannot be raised in this sandbox), so sockets beyond
/// <see cref="ConnectionPool.LocalCapacity"/> live in workers. Commands and reports travel as JSON lines
/// over the worker's standard input and output; timestamps are CLOCK_MONOTONIC, shared by all processes.
/// </summary>
public sealed class SocketWorker : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, bool> s_runningPids = new();

    private readonly Process _process;
    private readonly SemaphoreSlim _exchange = new(1, 1);

    private SocketWorker(Process process)
    {
        _process = process;
        s_runningPids[process.Id] = true;
    }

    /// <summary>Worker processes alive now, whose CPU counts as the bench's.</summary>
    public static IEnumerable<int> RunningPids => s_runningPids.Keys;

    public static SocketWorker Start(string system)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Yac.Bench.dll"));
        startInfo.ArgumentList.Add("worker");
        startInfo.ArgumentList.Add(system);
        return new SocketWorker(Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start a bench worker."));
    }

    public async Task<WorkerReport> ConnectAsync(IReadOnlyList<Uri> servers, IEnumerable<BenchClient> clients, CancellationToken cancellationToken) =>
        await ExchangeAsync(
            new WorkerCommand("connect", [.. servers.Select(server => server.ToString())], [.. clients.Select(WorkerClient.From)]),
            cancellationToken);

    public Task<WorkerReport> ReportAsync(CancellationToken cancellationToken) =>
        ExchangeAsync(new WorkerCommand("report", [], []), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new WorkerCommand("stop", [], []), BenchRunner.JsonOptions).ReplaceLineEndings(""));
            await _process.StandardInput.FlushAsync(timeout.Token);
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }

        s_runningPids.TryRemove(_process.Id, out _);
        _process.Dispose();
        _exchange.Dispose();
    }

    private async Task<WorkerReport> ExchangeAsync(WorkerCommand command, CancellationToken cancellationToken)
    {
        await _exchange.WaitAsync(cancellationToken);
        try
        {
            var line = JsonSerializer.Serialize(command, BenchRunner.JsonOptions).ReplaceLineEndings("");
            await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken);
            await _process.StandardInput.FlushAsync(cancellationToken);
            var reply = await _process.StandardOutput.ReadLineAsync(cancellationToken)
                ?? throw new InvalidOperationException($"The bench worker exited ({(_process.HasExited ? _process.ExitCode : -1)}).");
            return JsonSerializer.Deserialize<WorkerReport>(reply, BenchRunner.JsonOptions)
                ?? throw new InvalidOperationException("The bench worker sent an empty report.");
        }
        finally
        {
            _exchange.Release();
        }
    }

    /// <summary>The worker side: holds sockets and answers commands until told to stop.</summary>
    public static async Task<int> RunWorkerAsync(string system, CancellationToken cancellationToken)
    {
        var protocol = WireProtocols.ByName(system);
        var meter = new LoadMeter();
        ConnectionPool? pool = null;
        try
        {
            while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
            {
                var command = JsonSerializer.Deserialize<WorkerCommand>(line, BenchRunner.JsonOptions)
                    ?? throw new InvalidOperationException("Empty command.");
                if (command.Command == "stop")
                {
                    break;
                }

                if (command.Command == "connect")
                {
                    pool ??= new ConnectionPool(protocol, system, [.. command.Servers.Select(server => new Uri(server))], meter, allowWorkers: false);
                    await pool.ConnectAsync(command.Clients.Select(client => client.ToClient()), onConnected: null, cancellationToken);
                }

                var report = new WorkerReport(pool?.LocalOpenCount ?? 0, meter.ClosedSockets, new Dictionary<string, int>(meter.Errors), meter.ExportSteps());
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(report, BenchRunner.JsonOptions).ReplaceLineEndings(""));
                await Console.Out.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            if (pool is not null)
            {
                await pool.DisposeAsync();
            }
        }

        return 0;
    }
}

public sealed record WorkerCommand(string Command, IReadOnlyList<string> Servers, IReadOnlyList<WorkerClient> Clients);

public sealed record WorkerReport(int Open, long Closed, Dictionary<string, int> Errors, Dictionary<int, RemoteStepData> Steps);

/// <summary>A <see cref="BenchClient"/> as JSON carries it (an address as text).</summary>
public sealed record WorkerClient(int Index, int UserIndex, string UserId, string AccessToken, string ChatId, int ServerIndex, string SourceAddress, bool IsSender)
{
    public static WorkerClient From(BenchClient client) => new(
        client.Index, client.UserIndex, client.UserId, client.AccessToken, client.ChatId, client.ServerIndex, client.SourceAddress.ToString(), client.IsSender);

    public BenchClient ToClient() => new(Index, UserIndex, UserId, AccessToken, ChatId, ServerIndex, IPAddress.Parse(SourceAddress), IsSender);
}
