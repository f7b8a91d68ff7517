using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Instrumentation.AspNetCore;
using Yac.Contracts;
using Yac.Gateway.Chats;
using Yac.Gateway.Delivery;
using Yac.Gateway.Dependencies;
using Yac.Gateway.Presence;
using Yac.Gateway.Proxy;
using Yac.Gateway.Sockets;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Reconnect forever instead of failing at startup; subscriptions are restored by the multiplexer.
        // No per-command spans: StackExchange.Redis's profiler keeps a session per activity until it
        // stops, and a socket's request activity lives as long as the socket. The gateway's own
        // spans (receive, deliver) carry each message's trace across Redis.
        builder.AddRedisClient(
            "redis",
            settings => settings.DisableTracing = true,
            options => options.AbortOnConnectFail = false);
        // Sockets are authenticated by WebSocketApi itself; the proxied /api/* by the services behind it.
        builder.AddAccessTokenValidation();
        builder.AddServiceProxy();

        // The gateway is the edge: it reads the client's address from the connection, or from
        // X-Forwarded-For only when Yac:ForwardedHeaders names the load balancer in front of it; its
        // proxy then passes that address on to the services (ProxyRoutes).
        builder.AddForwardedHeaders(ForwardedHeadersSetup.DefaultTrust.Nobody);
        // As large as the largest cap of the services behind the proxy; each route's own is ProxyRoutes'.
        builder.LimitRequestBodies(RequestBodyCaps.Gateway);

        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName)
            .Validate(
                gateway => gateway.DependencyProbeInterval > TimeSpan.Zero && gateway.DependencyProbeTimeout > TimeSpan.Zero && gateway.DependencyFailuresToDown >= 1,
                "Yac:Gateway:DependencyProbeInterval and DependencyProbeTimeout must be positive, DependencyFailuresToDown at least 1.")
            .Validate(
                gateway => gateway.PresenceHeartbeatInterval > TimeSpan.Zero && gateway.PresenceHeartbeatTtl >= 2 * gateway.PresenceHeartbeatInterval,
                "Yac:Gateway:PresenceHeartbeatTtl must be at least twice PresenceHeartbeatInterval (and the interval positive).")
            .ValidateOnStart();
        services.AddOptions<WebSocketOptions>().Configure<Microsoft.Extensions.Options.IOptions<GatewayOptions>>(
            (webSockets, gateway) => webSockets.KeepAliveInterval = TimeSpan.FromSeconds(gateway.Value.HeartbeatSeconds));

        services.AddHttpClient(ChatServiceClient.HttpClientName, client => client.BaseAddress = new Uri("http://chat"));
        AddDependencyMonitor(services);
        services.AddSingleton<ChatServiceClient>();
        services.AddSingletonHostedService<ChatSendBatcher>();
        services.AddSingleton<GatewayIdentity>();
        services.AddSingleton<RedisPublisher>();
        services.AddSingleton<RedisEventReader>();
        services.AddSingleton<ClientFrameHandler>();
        services.AddSingletonHostedService<RedisSubscriptions>();
        services.AddSingletonHostedService<PresenceTracker>();
        services.AddSingletonHostedService<WsPool>();
        services.AddSingletonHostedService<SocketLeases>();
        services.AddHostedService<GracefulShutdown>();

        ProtectTokensInTelemetry(builder);
        return builder;
    }

    /// <summary>The probes of ChatService and Identity, and one <c>/health</c> entry each (Degraded while down).</summary>
    private static void AddDependencyMonitor(IServiceCollection services)
    {
        // A probe is one attempt with its own timeout: no retries, no circuit breaker in front of it.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental
        services.AddHttpClient(DependencyMonitor.HttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingletonHostedService<DependencyMonitor>();
        var health = services.AddHealthChecks();
        foreach (var name in new[] { ProxyRoutes.ChatCluster, ProxyRoutes.IdentityCluster })
        {
            health.Add(new HealthCheckRegistration(
                name,
                provider => new DependencyHealthCheck(provider.GetRequiredService<DependencyMonitor>().ForCluster(name)!),
                HealthStatus.Degraded,
                tags: null));
        }
    }

    private static void AddSingletonHostedService<T>(this IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(provider => provider.GetRequiredService<T>());
    }

    /// <summary>
    /// Browsers send the access token in <c>/ws?access_token=</c>: no log line and no span may carry
    /// that query. ASP.NET Core's request-start log (which prints the URL) stays off, and the
    /// server span of <c>/ws</c> drops <c>url.query</c> whatever the instrumentation's defaults.
    /// </summary>
    private static void ProtectTokensInTelemetry(IHostApplicationBuilder builder)
    {
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(options =>
        {
            var enrich = options.EnrichWithHttpRequest;
            options.EnrichWithHttpRequest = (activity, request) =>
            {
                enrich?.Invoke(activity, request);
                if (WebSocketApi.IsWebSocketPath(request.Path))
                {
                    activity.SetTag("url.query", null);
                    activity.SetTag("url.full", null);
                }
            };
        });
    }
}
