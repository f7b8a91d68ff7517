namespace Yac.Bench.Systems.Yac;

/// <summary>
/// Where a running YAC answers: the REST services (for provisioning, not measured) and each gateway
/// replica's own address (measured; never the orchestrator's proxy).
/// </summary>
/// <param name="Identity">The identity service's base address.</param>
/// <param name="Chat">The chat service's base address.</param>
/// <param name="GatewayReplicas">Each gateway replica's own base address.</param>
public sealed record YacEndpoints(Uri Identity, Uri Chat, IReadOnlyList<Uri> GatewayReplicas);
