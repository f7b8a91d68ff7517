using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// An app of its own for the fault-injection tests: they kill ChatService and gateway replicas with
/// SIGKILL, stop, restart and freeze Redis, and hold ChatService's publisher, so nothing they do
/// can leave another collection's app broken. Every step is bounded.
/// </summary>
public sealed class FaultAppFixture : YacAppFixture
{
    private static readonly TimeSpan s_stepTimeout = TimeSpan.FromSeconds(60);

    private readonly string _pauseFile = Path.Combine(Path.GetTempPath(), $"yac-pause-{Guid.NewGuid():N}");

    /// <summary>
    /// Whether ChatService's change publisher is held (it commits, but publishes nothing: a publisher
    /// that died right after the commit). A file the publisher looks for, so it holds across restarts.
    /// </summary>
    public bool PublisherPaused
    {
        get => File.Exists(_pauseFile);
        set
        {
            if (value)
            {
                File.WriteAllText(_pauseFile, "paused by a test");
            }
            else
            {
                File.Delete(_pauseFile);
            }
        }
    }

    /// <summary>ChatService replicas: two, so that commits of both meet in one chat's log and one publisher follows it.</summary>
    public const int ChatReplicas = 2;

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        builder.CreateResourceBuilder<ProjectResource>("chat")
            .WithReplicas(ChatReplicas)
            .WithEnvironment("Yac__Chat__Publisher__PauseFile", _pauseFile);
        // The faults are where failing fast is tested (DependencyDownTests) and must keep every guarantee.
        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithEnvironment("Yac__Gateway__FailFastWhileDown", "true");
    }

    /// <summary>Each ChatService replica's own address (the shared endpoint balances per connection).</summary>
    public async Task<IReadOnlyList<Uri>> GetChatReplicaUrlsAsync(CancellationToken cancellationToken)
    {
        var urls = new Dictionary<string, Uri>();
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            var ownUrl = resourceEvent.Resource.Name != "chat" ? null : resourceEvent.Snapshot.EnvironmentVariables
                .FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
                .Split(';', StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(url => url.StartsWith("http://", StringComparison.Ordinal));
            if (ownUrl is not null)
            {
                urls[resourceEvent.ResourceId] = new Uri(ownUrl);
            }

            if (urls.Count == ChatReplicas)
            {
                break;
            }
        }

        return [.. urls.Values];
    }

    /// <summary>The processes of every running instance of <paramref name="resource"/>, by instance id.</summary>
    public async Task<Dictionary<string, Process>> GetProcessesAsync(string resource, CancellationToken cancellationToken)
    {
        var pids = new Dictionary<string, int>();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(limit.Token))
            {
                if (resourceEvent.Resource.Name != resource)
                {
                    continue;
                }

                var pid = resourceEvent.Snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value;
                if (resourceEvent.Snapshot.State?.Text == KnownResourceStates.Running && pid is not null)
                {
                    pids[resourceEvent.ResourceId] = Convert.ToInt32(pid, CultureInfo.InvariantCulture);
                }
                else
                {
                    pids.Remove(resourceEvent.ResourceId);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The watch replays every instance's current state first; five seconds is plenty for that.
        }

        return pids.ToDictionary(pair => pair.Key, pair => Process.GetProcessById(pair.Value));
    }

    /// <summary>SIGKILL to every instance of <paramref name="resource"/> (the dotnet run wrapper and the service), no goodbye.</summary>
    public async Task KillAsync(string resource, CancellationToken cancellationToken)
    {
        foreach (var (instance, process) in await GetProcessesAsync(resource, cancellationToken))
        {
            await KillInstanceAsync(instance, process, cancellationToken);
        }
    }

    /// <summary>SIGKILL to one replica of <paramref name="resource"/>; returns its instance id (to start it again).</summary>
    public async Task<string> KillOneReplicaAsync(string resource, CancellationToken cancellationToken)
    {
        var (instance, process) = (await GetProcessesAsync(resource, cancellationToken)).OrderBy(pair => pair.Key, StringComparer.Ordinal).First();
        await KillInstanceAsync(instance, process, cancellationToken);
        return instance;
    }

    private async Task KillInstanceAsync(string instance, Process process, CancellationToken cancellationToken)
    {
        using (process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellationToken).WaitAsync(s_stepTimeout, cancellationToken);
        }

        await WaitForInstanceAsync(instance, state => state is "Exited" or "Finished", cancellationToken);
    }

    /// <summary>Starts one instance again (by its id) and waits until it runs and answers its health check.</summary>
    public async Task StartInstanceAsync(string instance, CancellationToken cancellationToken)
    {
        await ExecuteResourceCommandAsync(instance, "resource-start", cancellationToken);
        await WaitForInstanceAsync(instance, state => state == KnownResourceStates.Running, cancellationToken, healthy: true);
    }

    private async Task WaitForInstanceAsync(string instance, Func<string?, bool> state, CancellationToken cancellationToken, bool healthy = false)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(s_stepTimeout);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(limit.Token))
        {
            if (resourceEvent.ResourceId == instance && state(resourceEvent.Snapshot.State?.Text)
                && (!healthy || resourceEvent.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Starts every instance of a resource that was killed or stopped (by instance id: a replicated
    /// resource's name addresses no single process) and waits until each is healthy.
    /// </summary>
    public async Task StartAsync(string resource, CancellationToken cancellationToken)
    {
        var stopped = new Dictionary<string, string?>();
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            limit.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(limit.Token))
                {
                    if (resourceEvent.Resource.Name == resource)
                    {
                        stopped[resourceEvent.ResourceId] = resourceEvent.Snapshot.State?.Text;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The watch replays every instance's current state first; five seconds is plenty for that.
            }
        }

        foreach (var (instance, state) in stopped)
        {
            if (state != KnownResourceStates.Running)
            {
                await StartInstanceAsync(instance, cancellationToken);
            }
        }

        await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cancellationToken).WaitAsync(s_stepTimeout, cancellationToken);
    }

    /// <summary>Freezes the Redis server (SIGSTOP) for <paramref name="duration"/>, then lets it go on (SIGCONT).</summary>
    public async Task FreezeRedisAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var processes = (await GetProcessesAsync(RedisProcessName, cancellationToken)).Values.ToList();
        try
        {
            foreach (var process in processes)
            {
                await SignalAsync("STOP", process.Id, cancellationToken);
            }

            await Task.Delay(duration, cancellationToken);
        }
        finally
        {
            foreach (var process in processes)
            {
                await SignalAsync("CONT", process.Id, CancellationToken.None);
                process.Dispose();
            }
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_pauseFile);
    }

    private static async Task SignalAsync(string signal, int pid, CancellationToken cancellationToken)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false })!;
        await kill.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
    }
}

[CollectionDefinition(Name)]
public sealed class FaultAppCollection : ICollectionFixture<FaultAppFixture>
{
    public const string Name = "YAC app whose services the fault-injection tests kill";
}
