namespace Yac.Gateway.Sockets;

/// <summary>This replica's name (the <c>gatewayId</c> of <c>hello</c>): unique per process, also across restarts.</summary>
internal sealed class GatewayIdentity
{
    public string Id { get; } = $"gw-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
