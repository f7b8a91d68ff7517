using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// Starts the whole of YAC once per test collection, exactly as the AppHost declares it (real
/// PostgreSQL, real Redis-protocol server, every service, two gateway replicas), in local mode on
/// a fresh data directory, and waits until every resource is healthy.
/// <para>
/// Every HttpClient it hands out is bounded (<see cref="TestHttp.Timeout"/>) and refuses at once to
/// talk to a service that is not running (<see cref="ResourceStates"/>), so a broken app fails each
/// remaining test in milliseconds with the reason instead of each waiting out a timeout.
/// </para>
/// </summary>
public class YacAppFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(60);

    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), $"yac-tests-{Guid.NewGuid():N}"[..20]);

    public const int DefaultGatewayReplicas = 2;

    /// <summary>How many gateway replicas this app runs (a destructive fixture may want a spare).</summary>
    public virtual int GatewayReplicas => DefaultGatewayReplicas;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>What each resource instance is doing now (Running, Finished, ...).</summary>
    public ResourceStates States { get; private set; } = null!;

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

        ConfigureTelemetry(builder);
        // The load tests (floods of 5,000 sends, the fault suite's steady load, the bench smoke) send
        // as one user far beyond a person's rate; the per-user budgets themselves are tested on an
        // app with small ones (LowLimitsAppFixture, whose settings come later and win).
        builder.CreateResourceBuilder<ProjectResource>("chat")
            .WithEnvironment("Yac__RateLimits__sends__PermitLimit", "1000000");
        ConfigureApp(builder);
        App = await builder.BuildAsync(timeout.Token);
        States = new ResourceStates(App);
        await App.StartAsync(timeout.Token);

        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        RedisProcessName = model.Resources.Any(resource => resource.Name == "redis-server") ? "redis-server" : "garnet";

        foreach (var name in ServiceNames)
        {
            await WaitForEveryInstanceHealthyAsync(name, timeout.Token);
        }

        // A check of the fixture itself: YAC_TESTS_STOP=identity runs every test against an app whose
        // Identity was stopped after start; each test that needs it must fail in seconds, with the reason.
        if (Environment.GetEnvironmentVariable("YAC_TESTS_STOP") is { Length: > 0 } broken)
        {
            await ExecuteResourceCommandAsync(broken, "resource-stop", timeout.Token);
        }
    }

    /// <summary>
    /// No OTLP export by default. Aspire's testing host has no dashboard but still points every
    /// service at <c>localhost:4317</c> with in-memory retries; nothing listens there, so each service
    /// kept failed batches and spent ~10 s at shutdown flushing them. A stop then outlasted DCP's 6 s
    /// grace (SIGKILL of the <c>dotnet run</c> wrapper) and, on a loaded machine, Aspire's ~15 s wait
    /// for the stop: "Failed to stop resource". Without an exporter a service stops in ~0.1 s.
    /// A fixture that watches telemetry sets its own endpoint in <see cref="ConfigureApp"/>.
    /// </summary>
    protected virtual void ConfigureTelemetry(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var service in ServiceNames)
        {
            builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        }
    }

    /// <summary>Lets a derived fixture change the app before it starts, e.g. a service's environment.</summary>
    protected virtual void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
    }

    public virtual async Task DisposeAsync()
    {
        if (States is not null)
        {
            await States.DisposeAsync();
        }

        if (App is not null)
        {
            await App.DisposeAsync();
        }

        DeleteDataRoot();
    }

    /// <summary>
    /// An HttpClient on a service's endpoint (through the orchestrator's proxy): bounded, and failing
    /// at once while the service is not running.
    /// </summary>
    public HttpClient CreateClient(string service) =>
        TestHttp.Create(App.GetEndpoint(service, "http"), new FailFastHandler(States, service));

    /// <summary>
    /// Each gateway replica's own address (not the proxy's, which balances per connection), so a
    /// test can reach a chosen replica.
    /// </summary>
    public Task<IReadOnlyList<Uri>> GetGatewayReplicaUrlsAsync(CancellationToken cancellationToken) =>
        GetReplicaUrlsAsync("gateway", GatewayReplicas, cancellationToken);

    /// <summary>Each of a service's <paramref name="replicas"/> replicas' own addresses (see <see cref="GetGatewayReplicaUrlsAsync"/>).</summary>
    public async Task<IReadOnlyList<Uri>> GetReplicaUrlsAsync(string service, int replicas, CancellationToken cancellationToken)
    {
        var urls = new Dictionary<string, Uri>();
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (resourceEvent.Resource.Name != service)
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

            if (urls.Count == replicas)
            {
                break;
            }
        }

        return [.. urls.Values];
    }

    /// <summary>How many instances the app model declares for <paramref name="resource"/>.</summary>
    public int ReplicasOf(string resource) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(candidate => candidate.Name == resource)
            .Annotations.OfType<ReplicaAnnotation>().FirstOrDefault()?.Replicas ?? 1;

    /// <summary>
    /// Waits until every instance of <paramref name="resource"/> is healthy. Aspire's
    /// <c>WaitForResourceHealthyAsync</c> returns when the first instance of a replicated resource is,
    /// so a test that picks a replica by address could find it not yet listening (connection refused).
    /// </summary>
    public async Task WaitForEveryInstanceHealthyAsync(string resource, CancellationToken cancellationToken)
    {
        var replicas = ReplicasOf(resource);
        var healthy = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (resourceEvent.Resource.Name != resource)
            {
                continue;
            }

            if (resourceEvent.Snapshot.State?.Text == KnownResourceStates.Running
                && resourceEvent.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
            {
                healthy.Add(resourceEvent.ResourceId);
            }
            else
            {
                healthy.Remove(resourceEvent.ResourceId);
            }

            if (healthy.Count == replicas)
            {
                return;
            }
        }
    }

    /// <summary>Every log line a service's instances (replicas included) have written so far.</summary>
    public async Task<IReadOnlyList<string>> GetResourceLogsAsync(string resource, CancellationToken cancellationToken = default)
    {
        var replicas = ReplicasOf(resource);
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

    /// <summary>Stops or starts a resource the way the dashboard's buttons do (bounded to a minute).</summary>
    public async Task ExecuteResourceCommandAsync(string resource, string command, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_commandTimeout);
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(resource, command, limit.Token);
        Assert.True(result.Success, $"{command} {resource}: {result.Message}");
    }

    /// <summary>
    /// Stops <paramref name="resource"/>, runs <paramref name="whileStopped"/>, and starts it again
    /// whatever happened meanwhile, waiting until it is healthy (each step bounded).
    /// </summary>
    public async Task WhileStoppedAsync(string resource, Func<Task> whileStopped, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_commandTimeout);
        try
        {
            await ExecuteResourceCommandAsync(resource, "resource-stop", limit.Token);
            await App.ResourceNotifications.WaitForResourceAsync(
                resource, resourceEvent => resourceEvent.Snapshot.State?.Text is "Exited" or "Finished", limit.Token);
            await whileStopped();
        }
        finally
        {
            using var restart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            restart.CancelAfter(s_commandTimeout);
            await ExecuteResourceCommandAsync(resource, "resource-start", restart.Token);
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, restart.Token);
        }
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

/// <summary>
/// A second copy of the shared app, for the services' own tests (Identity, chats, messages, input
/// rules, topology): collections run two at a time, so the suite is not as long as one app's tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class YacServicesAppCollection : ICollectionFixture<YacAppFixture>
{
    public const string Name = "YAC app for the services' tests";
}

[CollectionDefinition(Name)]
public sealed class YacGarnetAppCollection : ICollectionFixture<YacGarnetAppFixture>
{
    public const string Name = "YAC app on Garnet";
}

/// <summary>
/// An app of its own for tests that stop and restart a service: whatever goes wrong there cannot
/// leave the shared app without that service.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RestartedServicesAppCollection : ICollectionFixture<YacAppFixture>
{
    public const string Name = "YAC app whose services its tests restart";
}
