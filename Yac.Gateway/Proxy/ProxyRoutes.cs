using Yac.Contracts;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace Yac.Gateway.Proxy;

/// <summary>
/// The gateway is the single public entry: these routes send the services' public paths to them
/// through service discovery (<c>http://identity</c> and <c>http://chat</c> resolve to every
/// instance of the service that Aspire, or the configuration, names).
/// </summary>
internal static class ProxyRoutes
{
    public const string IdentityCluster = "identity";
    public const string ChatCluster = "chat";

    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        // A catch-all also matches the empty rest, so "/api/users/{**rest}" serves "/api/users" too.
        Route("identity-users", "/api/users/{**rest}", IdentityCluster),
        Route("identity-tokens", "/api/tokens/{**rest}", IdentityCluster),
        Route("identity-logout", "/api/logout", IdentityCluster),
        Route("identity-well-known", "/.well-known/{**rest}", IdentityCluster),
        Route("chat-chats", "/api/chats/{**rest}", ChatCluster),
        Route("chat-search", "/api/search", ChatCluster),
    ];

    public static IReadOnlyList<ClusterConfig> Clusters { get; } =
    [
        Cluster(IdentityCluster, "http://identity"),
        Cluster(ChatCluster, "http://chat"),
    ];

    /// <summary>The cap on a body forwarded to the cluster's service: that service's own (<see cref="RequestBodyCaps"/>).</summary>
    public static long BodyCapOf(string? clusterId) => clusterId == IdentityCluster ? RequestBodyCaps.Identity : RequestBodyCaps.Chat;

    private static RouteConfig Route(string routeId, string path, string clusterId) =>
        new RouteConfig
        {
            RouteId = routeId,
            ClusterId = clusterId,
            Match = new RouteMatch { Path = path },
            // A body of unknown length (chunked) is cut at the cap as it is read; BodyCapGate refuses a declared one.
            MaxRequestBodySize = BodyCapOf(clusterId),
        }
        // The gateway is the edge: whatever X-Forwarded-* a client sends is replaced by what the
        // gateway saw (the client's address, scheme and host), so a client cannot spoof its address
        // to the services' rate limits. Behind a trusted load balancer (Yac:ForwardedHeaders), the
        // forwarded-headers middleware has made the connection's address the real client's first.
        .WithTransformXForwarded(
            headerPrefix: "X-Forwarded-",
            xDefault: ForwardedTransformActions.Set,
            xFor: ForwardedTransformActions.Set,
            xHost: ForwardedTransformActions.Set,
            xProto: ForwardedTransformActions.Set,
            xPrefix: ForwardedTransformActions.Remove);

    private static ClusterConfig Cluster(string clusterId, string address) =>
        new()
        {
            ClusterId = clusterId,
            Destinations = new Dictionary<string, DestinationConfig>
            {
                [clusterId] = new() { Address = address },
            },
        };
}
