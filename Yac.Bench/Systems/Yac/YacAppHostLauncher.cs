using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yac.Bench.Measurement;

namespace Yac.Bench.Systems.Yac;

/// <summary>
/// Starts the real YAC topology from its AppHost (local mode: PostgreSQL with its default
/// durability, redis-server, identity, chat, two gateway replicas) on a fresh data directory, the
/// way the test fixture does, and finds each replica's own port and every process to measure.
/// </summary>
public static class YacAppHostLauncher
{
    public const int GatewayReplicas = 2;

    private static readonly string[] s_measuredResources = ["gateway", "chat", "identity", "postgres", "redis-server", "garnet"];
    private static readonly string[] s_singleResources = ["chat", "identity", "postgres"];

    public static async Task<YacSystem> StartAsync(double traceRatio, Action<string> progress, CancellationToken cancellationToken)
    {
        var dataRoot = Path.Combine(Path.GetTempPath(), $"yac-bench-{Guid.NewGuid():N}"[..20]);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Yac_AppHost>(
            [
                "--Yac:Infrastructure=local",
                $"--Yac:Postgres:DataDirectory={dataRoot}",
                "--Yac:Gateway:Port=0",
                $"--Yac:Gateway:Replicas={GatewayReplicas}",
            ],
            cancellationToken);
        // The testing builder forwards every resource's console to this process's logger; echoing it
        // would cost the bench CPU (and hundreds of MB of output) during the measurement.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Yac.AppHost.Resources", LogLevel.Warning));

        // As deployed, like the baseline: the services' launch profiles say Development (developer
        // exception page, development logging), which is not what a benchmark should measure.
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("ASPNETCORE_ENVIRONMENT", "Production")
                .WithEnvironment("DOTNET_ENVIRONMENT", "Production");
            YacTelemetry.Configure(builder.CreateResourceBuilder(project), traceRatio);
            if (Environment.GetEnvironmentVariable("YAC_BENCH_PERF_MAP") == "1")
            {
                // For `perf record`: the services write /tmp/perf-PID.map so JIT-compiled frames have names.
                builder.CreateResourceBuilder(project).WithEnvironment("DOTNET_PerfMapEnabled", "1").WithEnvironment("DOTNET_EnableWriteXorExecute", "0");
            }
        }

        var app = await builder.BuildAsync(cancellationToken);
        try
        {
            progress(string.Create(CultureInfo.InvariantCulture, $"starting YAC (AppHost, local mode, services in the Production environment, {traceRatio:P0} of messages traced, no telemetry exporter)"));
            await app.StartAsync(cancellationToken);
            foreach (var service in new[] { "identity", "chat", "gateway" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(service, cancellationToken);
            }

            var (replicas, processes) = await FindReplicasAndProcessesAsync(app, cancellationToken);
            var endpoints = new YacEndpoints(app.GetEndpoint("identity", "http"), app.GetEndpoint("chat", "http"), replicas);
            var chatDb = await app.GetConnectionStringAsync("chatdb", cancellationToken);
            var redis = ParseHostAndPort(await app.GetConnectionStringAsync("redis", cancellationToken));
            return new HostedYacSystem(app, dataRoot, endpoints, processes, chatDb, redis);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Each gateway replica's own address comes from its ASPNETCORE_URLS (the resource's URL is the
    /// shared proxy's); each process's id from the snapshot property <c>executable.pid</c>.
    /// </summary>
    private static async Task<(IReadOnlyList<Uri> Replicas, IReadOnlyList<MeasuredProcess> Processes)> FindReplicasAndProcessesAsync(
        DistributedApplication app, CancellationToken cancellationToken)
    {
        var replicas = new SortedDictionary<string, Uri>(StringComparer.Ordinal);
        var pids = new SortedDictionary<string, (string Resource, int Pid)>(StringComparer.Ordinal);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await foreach (var resourceEvent in app.ResourceNotifications.WatchAsync(timeout.Token))
        {
            var name = resourceEvent.Resource.Name;
            if (!s_measuredResources.Contains(name))
            {
                continue;
            }

            var pid = resourceEvent.Snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value;
            if (pid is not null && int.TryParse(Convert.ToString(pid, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var processId) && processId > 0)
            {
                pids[resourceEvent.ResourceId] = (name, processId);
            }

            if (name == "gateway")
            {
                var ownUrl = resourceEvent.Snapshot.EnvironmentVariables
                    .FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
                    .Split(';', StringSplitOptions.RemoveEmptyEntries)
                    .FirstOrDefault(url => url.StartsWith("http://", StringComparison.Ordinal));
                if (ownUrl is not null)
                {
                    replicas[resourceEvent.ResourceId] = new Uri(ownUrl.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
                }
            }

            var haveAll = replicas.Count == GatewayReplicas
                && pids.Values.Count(entry => entry.Resource == "gateway") == GatewayReplicas
                && s_singleResources.All(resource => pids.Values.Any(entry => entry.Resource == resource))
                && pids.Values.Any(entry => entry.Resource is "redis-server" or "garnet");
            if (haveAll)
            {
                break;
            }
        }

        var processes = new List<MeasuredProcess>();
        var gatewayNumber = 0;
        foreach (var (resourceId, (resource, pid)) in pids)
        {
            processes.Add(resource == "gateway"
                ? new MeasuredProcess($"gateway-{++gatewayNumber}", MeasuredProcess.ServerRole, pid)
                : new MeasuredProcess(resource == "garnet" ? "redis" : resource.Replace("redis-server", "redis", StringComparison.Ordinal), MeasuredProcess.SupportRole, pid));
            _ = resourceId;
        }

        return ([.. replicas.Values], processes);
    }

    private static (string Host, int Port)? ParseHostAndPort(string? connectionString)
    {
        var first = connectionString?.Split(',')[0];
        var colon = first?.LastIndexOf(':') ?? -1;
        if (first is null || colon < 0)
        {
            return null;
        }

        var host = first[..colon] == "localhost" ? "127.0.0.1" : first[..colon];
        return (host, int.Parse(first[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private sealed class HostedYacSystem(
        DistributedApplication app,
        string dataRoot,
        YacEndpoints endpoints,
        IReadOnlyList<MeasuredProcess> processes,
        string? chatDb,
        (string Host, int Port)? redis)
        : YacSystem(endpoints, processes, chatDb, redis)
    {
        public override async ValueTask DisposeAsync()
        {
            await app.DisposeAsync();
            try
            {
                Directory.Delete(dataRoot, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            await base.DisposeAsync();
        }
    }
}
