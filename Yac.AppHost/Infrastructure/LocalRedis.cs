using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Yac.AppHost.Infrastructure;

internal static class LocalRedisExtensions
{
    /// <summary>
    /// A Redis-protocol server as a local process: the machine's <c>redis-server</c>, or Garnet
    /// hosted by Yac.EmbeddedRedis where none is installed. The process resource is named after
    /// the server (<c>redis-server</c> or <c>garnet</c>); <paramref name="name"/> is the
    /// connection string the services reference, exactly as with the container.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalRedisServer serverKind, string? redisServerPath)
    {
        IResourceBuilder<IResourceWithEndpoints> server = serverKind switch
        {
            LocalRedisServer.RedisServer => AddRedisServer(builder, redisServerPath!),
            LocalRedisServer.EmbeddedGarnet => builder.AddProject<Projects.Yac_EmbeddedRedis>("garnet", options => options.ExcludeLaunchProfile = true)
                .WithEndpoint(name: "tcp", scheme: "tcp", env: "YAC_REDIS_PORT"),
            _ => throw new ArgumentOutOfRangeException(nameof(serverKind)),
        };

        var endpoint = server.GetEndpoint("tcp");
        var healthCheckKey = $"{server.Resource.Name}-check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisPingHealthCheck(endpoint),
            failureStatus: null,
            tags: null));
        server.WithHealthCheck(healthCheckKey);

        return builder.AddConnectionString(name, ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.HostAndPort)}"))
            .WithParentRelationship(server)
            .WaitFor(server);
    }

    private static IResourceBuilder<ExecutableResource> AddRedisServer(IDistributedApplicationBuilder builder, string path)
    {
        var server = builder.AddExecutable("redis-server", path, "/").WithEndpoint(name: "tcp", scheme: "tcp");
        var endpoint = server.GetEndpoint("tcp");
        return server.WithArgs(context =>
        {
            context.Args.Add("--port");
            context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--bind");
            context.Args.Add("127.0.0.1");
            // Redis holds only pub/sub traffic and short-lived revocation keys: nothing to persist.
            context.Args.Add("--save");
            context.Args.Add("");
            context.Args.Add("--appendonly");
            context.Args.Add("no");
        });
    }

    /// <summary>PING over RESP: cheap, and true of redis-server and Garnet alike.</summary>
    private sealed class RedisPingHealthCheck(EndpointReference endpoint) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var client = new TcpClient();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, timeout.Token);
                var reply = Encoding.ASCII.GetString(buffer, 0, read);
                return reply.StartsWith("+PONG", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"PING answered '{reply.Trim()}'");
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy("No answer to PING", exception);
            }
        }
    }
}
