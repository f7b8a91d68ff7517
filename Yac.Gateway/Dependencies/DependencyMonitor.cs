using Microsoft.Extensions.Options;
using Yac.Gateway.Proxy;
using Yac.Gateway.Sockets;

namespace Yac.Gateway.Dependencies;

/// <summary>
/// Probes each service the gateway calls (<c>/health/serving</c>: the service and its database
/// answer) every <see cref="GatewayOptions.DependencyProbeInterval"/>, each probe bounded by
/// <see cref="GatewayOptions.DependencyProbeTimeout"/>, so that a dead service (or a hanging address)
/// is known within seconds. What depends on a service asks its <see cref="Dependency"/> first and
/// fails fast while it is down: the REST proxy (<see cref="DependencyGate"/>), socket sends and the
/// upgrade (<see cref="Chats.ChatServiceClient"/>), and <c>/health</c> (<see cref="DependencyHealthCheck"/>).
/// The probes' client has no resilience handler: a probe is one attempt.
/// </summary>
internal sealed partial class DependencyMonitor : BackgroundService
{
    public const string HttpClientName = "dependency-probes";

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly GatewayOptions _options;
    private readonly ILogger<DependencyMonitor> _logger;

    public DependencyMonitor(IHttpClientFactory httpClientFactory, IOptions<GatewayOptions> options, TimeProvider timeProvider, ILogger<DependencyMonitor> logger)
    {
        _httpClientFactory = httpClientFactory;
        _options = options.Value;
        FailFast = _options.FailFastWhileDown;
        _logger = logger;
        Chat = Create(ProxyRoutes.ChatCluster, timeProvider);
        Identity = Create(ProxyRoutes.IdentityCluster, timeProvider);
        All = [Chat, Identity];
    }

    /// <summary>Whether callers refuse calls to a dependency that is down (<see cref="GatewayOptions.FailFastWhileDown"/>).</summary>
    public bool FailFast { get; }

    public Dependency Chat { get; }

    public Dependency Identity { get; }

    public IReadOnlyList<Dependency> All { get; }

    /// <summary>The dependency behind a proxy cluster, if it is one.</summary>
    public Dependency? ForCluster(string? clusterId) => All.FirstOrDefault(dependency => dependency.Name == clusterId);

    public override void Dispose()
    {
        foreach (var dependency in All)
        {
            dependency.Dispose();
        }

        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.DependencyProbeInterval);
        do
        {
            await Task.WhenAll(All.Select(dependency => ProbeAsync(dependency, stoppingToken)));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private Dependency Create(string name, TimeProvider timeProvider)
    {
        // A service that answered a call within about a probe's span is busy, not dead.
        var quietPeriod = _options.DependencyProbeTimeout + _options.DependencyProbeInterval;
        var dependency = new Dependency(
            name, _options.DependencyFailuresToDown, quietPeriod, ProbeAsync, timeProvider);
        dependency.Changed += (changed, available) =>
        {
            if (available)
            {
                LogBack(changed.Name);
            }
            else
            {
                LogDown(changed.Name);
            }
        };
        return dependency;
    }

    /// <summary>One probe; never throws (a failure is an outcome).</summary>
    private async Task ProbeAsync(Dependency dependency, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DependencyProbeTimeout);
        try
        {
            var http = _httpClientFactory.CreateClient(HttpClientName);
            using var response = await http.GetAsync(
                new Uri($"http://{dependency.Name}{Microsoft.Extensions.Hosting.Extensions.ServingEndpointPath}"), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                dependency.RecordSuccess();
            }
            else
            {
                dependency.RecordFailure();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or InvalidOperationException)
        {
            // Refused, reset, timed out, or no address resolved yet.
            dependency.RecordFailure();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dependency {Dependency} is down: calls to it are refused at once until it answers again")]
    private partial void LogDown(string dependency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dependency {Dependency} answers again")]
    private partial void LogBack(string dependency);
}
