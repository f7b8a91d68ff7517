using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// The latest state of every resource instance of a running app, watched in the background, so that
/// a test talking to a service that is not running fails at once with the reason instead of waiting
/// for a timeout (and so every later test of the collection fails fast too).
/// </summary>
public sealed class ResourceStates : IAsyncDisposable
{
    /// <summary>States an instance does not leave by itself: nothing answers for it.</summary>
    private static readonly HashSet<string> s_down = new(StringComparer.Ordinal)
    {
        KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart,
    };

    private readonly ConcurrentDictionary<string, (string Resource, string State)> _instances = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;

    public ResourceStates(DistributedApplication app)
    {
        _watch = WatchAsync(app, _stop.Token);
    }

    /// <summary>
    /// Null while at least one instance of <paramref name="resource"/> may answer; otherwise why not
    /// (e.g. <c>identity is Finished</c>).
    /// </summary>
    public string? WhyDown(string resource)
    {
        var states = _instances.Values.Where(instance => instance.Resource == resource).Select(instance => instance.State).ToList();
        return states.Count > 0 && states.All(s_down.Contains)
            ? $"'{resource}' is not running ({string.Join(", ", states)}): a test stopped it or it crashed; see its log above"
            : null;
    }

    private async Task WatchAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var resourceEvent in app.ResourceNotifications.WatchAsync(cancellationToken))
            {
                _instances[resourceEvent.ResourceId] = (resourceEvent.Resource.Name, resourceEvent.Snapshot.State?.Text ?? "");
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watch;
        _stop.Dispose();
    }
}

/// <summary>Refuses a request at once when its service is known not to be running.</summary>
internal sealed class FailFastHandler(ResourceStates states, string resource) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (states.WhyDown(resource) is { } reason)
        {
            throw new HttpRequestException($"{request.Method} {request.RequestUri}: {reason}");
        }

        return base.SendAsync(request, cancellationToken);
    }
}
