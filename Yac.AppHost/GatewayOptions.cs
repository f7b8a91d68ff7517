namespace Yac.AppHost;

/// <summary>The public edge: <c>Yac:Gateway:Port</c> (0 picks a free port) and <c>Yac:Gateway:Replicas</c>.</summary>
internal sealed record GatewayOptions(int? Port, int Replicas)
{
    public const int DefaultPort = 5080;

    public static GatewayOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Yac:Gateway");
        var port = section.GetValue("Port", DefaultPort);
        var replicas = ServiceReplicas.Read(configuration, "Gateway", ServiceReplicas.DefaultGateway);
        if (port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Yac:Gateway:Port must be 0 (any free port) or a TCP port; it is {port}.");
        }

        return new GatewayOptions(port == 0 ? null : port, replicas);
    }
}
