using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Yac.Gateway.Dependencies;

/// <summary>
/// One entry of the gateway's <c>/health</c> per dependency: Healthy while it answers, Degraded
/// while it is down. Degraded (not Unhealthy): the gateway itself serves (sockets stay open, and
/// what does not need that dependency keeps working), and an orchestrator must not restart it for
/// another service's outage.
/// </summary>
internal sealed class DependencyHealthCheck(Dependency dependency) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(dependency.IsAvailable
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, $"{dependency.Name} does not answer its health probe."));
}
