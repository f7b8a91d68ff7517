namespace Yac.AppHost;

/// <summary>The public edge: <c>Yac:Gateway:Port</c> (0 picks a free port) and <c>Yac:Gateway:Replicas</c>.</summary>
internal sealed record GatewayOptions(int? Port, int Replicas)
{
    public const int DefaultPort = 5080;
    public const int DefaultReplicas = 2;

    public static GatewayOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Yac:Gateway");
        var port = section.GetValue("Port", DefaultPort);
        var replicas = section.GetValue("Replicas", DefaultReplicas);
        if (port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Yac:Gateway:Port must be 0 (any free port) or a TCP port; it is {port}.");
        }

        if (replicas < 1)
        {
            throw new InvalidOperationException($"Yac:Gateway:Replicas must be at least 1; it is {replicas}.");
        }

        return new GatewayOptions(port == 0 ? null : port, replicas);
    }
}
