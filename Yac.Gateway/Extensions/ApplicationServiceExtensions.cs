using Yac.Gateway.Proxy;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("redis");
        builder.AddServiceProxy();
        return builder;
    }
}
