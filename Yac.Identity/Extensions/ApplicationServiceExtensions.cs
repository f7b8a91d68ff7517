using Yac.Identity.Infrastructure;
using Yac.Shared;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<IdentityDbContext>("identitydb");
        builder.Services.AddDatabaseMigrator<IdentityDbContext>();
        builder.AddRedisClient("redis");
        return builder;
    }
}
