using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// Starts the whole of YAC once per test collection, exactly as the AppHost declares it (real
/// PostgreSQL, real Redis-protocol server, every service, two gateway replicas), in local mode on
/// a fresh data directory, and waits until every resource is healthy.
/// </summary>
public class YacAppFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(4);

    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), $"yac-tests-{Guid.NewGuid():N}"[..20]);

    public const int DefaultGatewayReplicas = 2;

    /// <summary>How many gateway replicas this app runs (a destructive fixture may want a spare).</summary>
    public virtual int GatewayReplicas => DefaultGatewayReplicas;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>The names of the services every test may talk to.</summary>
    public static readonly string[] ServiceNames = ["identity", "chat", "gateway"];

    /// <summary>Which Redis-protocol server to run: <c>auto</c> (redis-server if installed), or <c>garnet</c>.</summary>
    protected virtual string RedisServer => "auto";

    /// <summary>The process resource behind the <c>redis</c> connection string.</summary>
    public string RedisProcessName { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(s_startTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Yac_AppHost>(
            [
                "--Yac:Infrastructure=local",
                $"--Yac:Redis={RedisServer}",
                $"--Yac:Postgres:DataDirectory={_dataRoot}",
                "--Yac:Gateway:Port=0",
                $"--Yac:Gateway:Replicas={GatewayReplicas}",
            ],
            timeout.Token);

        ConfigureApp(builder);
        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);

        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        RedisProcessName = model.Resources.Any(resource => resource.Name == "redis-server") ? "redis-server" : "garnet";

        foreach (var name in ServiceNames)
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    /// <summary>Lets a derived fixture change the app before it starts, e.g. a service's environment.</summary>
    protected virtual void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
    }

    public virtual async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        DeleteDataRoot();
    }

    /// <summary>An HttpClient on a service's endpoint (through the orchestrator's proxy).</summary>
    public HttpClient CreateClient(string service) => App.CreateHttpClient(service, "http");

    /// <summary>
    /// Each gateway replica's own address (not the proxy's, which balances per connection), so a
    /// test can reach a chosen replica.
    /// </summary>
    public async Task<IReadOnlyList<Uri>> GetGatewayReplicaUrlsAsync(CancellationToken cancellationToken)
    {
        var urls = new Dictionary<string, Uri>();
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (resourceEvent.Resource.Name != "gateway")
            {
                continue;
            }

            // The snapshot's URL is the shared proxy's; the replica's own address is in its environment.
            var ownUrl = resourceEvent.Snapshot.EnvironmentVariables
                .FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
                .Split(';', StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(url => url.StartsWith("http://", StringComparison.Ordinal));
            if (ownUrl is not null)
            {
                urls[resourceEvent.ResourceId] = new Uri(ownUrl);
            }

            if (urls.Count == GatewayReplicas)
            {
                break;
            }
        }

        return [.. urls.Values];
    }

    /// <summary>Every log line a service's instances (replicas included) have written so far.</summary>
    public async Task<IReadOnlyList<string>> GetResourceLogsAsync(string resource, CancellationToken cancellationToken = default)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var replicas = model.Resources.Single(candidate => candidate.Name == resource)
            .Annotations.OfType<ReplicaAnnotation>().FirstOrDefault()?.Replicas ?? 1;
        // The logs are kept per instance; the notifications name every instance (current state first).
        var instanceNames = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (resourceEvent.Resource.Name == resource && instanceNames.Add(resourceEvent.ResourceId) && instanceNames.Count == replicas)
            {
                break;
            }
        }

        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        var lines = new List<string>();
        foreach (var instanceName in instanceNames)
        {
            await foreach (var batch in logs.GetAllAsync(instanceName).WithCancellation(cancellationToken))
            {
                lines.AddRange(batch.Select(line => line.Content));
            }
        }

        return lines;
    }

    /// <summary>Stops or starts a resource the way the dashboard's buttons do.</summary>
    public async Task ExecuteResourceCommandAsync(string resource, string command, CancellationToken cancellationToken)
    {
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(resource, command, cancellationToken);
        Assert.True(result.Success, $"{command} {resource}: {result.Message}");
    }

    private void DeleteDataRoot()
    {
        try
        {
            if (Directory.Exists(_dataRoot))
            {
                Directory.Delete(_dataRoot, recursive: true);
            }
        }
        catch (IOException)
        {
            // A server that has not quite exited may still hold a file; the OS temp cleaner gets the rest.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The same app, on the embedded Garnet server instead of redis-server.</summary>
public sealed class YacGarnetAppFixture : YacAppFixture
{
    protected override string RedisServer => "garnet";
}

[CollectionDefinition(Name)]
public sealed class YacAppCollection : ICollectionFixture<YacAppFixture>
{
    public const string Name = "YAC app";
}

[CollectionDefinition(Name)]
public sealed class YacGarnetAppCollection : ICollectionFixture<YacGarnetAppFixture>
{
    public const string Name = "YAC app on Garnet";
}
