using Yac.ChatService.Infrastructure;
using Yac.Shared;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<ChatDbContext>("chatdb");
        builder.Services.AddDatabaseMigrator<ChatDbContext>();
        builder.AddRedisClient("redis");
        return builder;
    }
}
