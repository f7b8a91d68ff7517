namespace Yac.Gateway.Proxy;

internal static class ProxyExtensions
{
    /// <summary>YARP with the routes of <see cref="ProxyRoutes"/>, destinations resolved by service discovery.</summary>
    public static IHostApplicationBuilder AddServiceProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromMemory(ProxyRoutes.Routes, ProxyRoutes.Clusters)
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }
}
