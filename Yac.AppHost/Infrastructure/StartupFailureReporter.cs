using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Yac.AppHost.Infrastructure;

/// <summary>
/// Says on the AppHost's console when a process exits with an error before it was ever healthy,
/// and why (the exception or FATAL line of its log). The orchestrator shows this only in the
/// dashboard, while everything that waits for that process keeps waiting: without this, a service
/// that refuses a stale database looks like an app that never gets ready.
/// </summary>
/// <remarks>
/// It watches from <see cref="StartingAsync"/>: the orchestrator's own start does not return until
/// every resource has started, which a resource waiting for a failed one never does.
/// </remarks>
internal sealed partial class StartupFailureReporter(
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    IHostApplicationLifetime lifetime,
    ILogger<StartupFailureReporter> logger) : IHostedLifecycleService, IDisposable
{
    private static readonly string[] s_causeMarkers = ["Unhandled exception.", "FATAL:"];

    private readonly CancellationTokenSource _stopping = new();
    private Task _watching = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _watching = WatchAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _watching.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        // A run is one start of one instance; a restart from the dashboard is a new run.
        var healthyRuns = new HashSet<(string ResourceId, DateTime? Started)>();
        var reportedRuns = new HashSet<(string ResourceId, DateTime? Started)>();
        try
        {
            await foreach (var resourceEvent in notifications.WatchAsync(cancellationToken))
            {
                var snapshot = resourceEvent.Snapshot;
                var run = (resourceEvent.ResourceId, snapshot.StartTimeStamp);
                if (snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                {
                    healthyRuns.Add(run);
                }

                if (snapshot.ExitCode is not { } exitCode || exitCode == 0
                    || lifetime.ApplicationStopping.IsCancellationRequested
                    || healthyRuns.Contains(run) || !reportedRuns.Add(run))
                {
                    continue;
                }

                var cause = await FindCauseAsync(resourceEvent.ResourceId, cancellationToken);
                LogExitedBeforeReady(resourceEvent.ResourceId, exitCode, cause ?? "its log in the dashboard says why");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The last line of the log that names the failure: .NET's unhandled exception, or PostgreSQL's FATAL.</summary>
    private async Task<string?> FindCauseAsync(string resourceId, CancellationToken cancellationToken)
    {
        string? cause = null;
        await foreach (var batch in logs.GetAllAsync(resourceId).WithCancellation(cancellationToken))
        {
            foreach (var line in batch)
            {
                foreach (var marker in s_causeMarkers)
                {
                    var at = line.Content.IndexOf(marker, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        cause = line.Content[at..];
                    }
                }
            }
        }

        return cause;
    }

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Resource} exited with code {ExitCode} before it was ready, so what waits for it will not start: {Cause}")]
    private partial void LogExitedBeforeReady(string resource, int exitCode, string cause);
}
