namespace Yac.AppHost.Infrastructure;

/// <summary>The infrastructure resources the services reference, whichever way they run.</summary>
internal sealed record YacInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> IdentityDb,
    IResourceBuilder<IResourceWithConnectionString> ChatDb,
    IResourceBuilder<IResourceWithConnectionString> Redis);

internal static class YacInfrastructureExtensions
{
    /// <summary>
    /// Declares PostgreSQL (<c>identitydb</c>, <c>chatdb</c>) and Redis (<c>redis</c>) as containers
    /// when a container runtime answers, else as local processes (see <see cref="LocalPostgresExtensions"/> and <see cref="LocalRedisExtensions"/>).
    /// <c>Yac:Infrastructure</c> = <c>auto</c> | <c>containers</c> | <c>local</c> overrides the choice.
    /// In publish mode (<c>aspire publish</c>, <c>--operation publish</c>) all three are connection-string
    /// parameters instead, and nothing is detected.
    /// </summary>
    public static YacInfrastructure AddYacInfrastructure(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            // A deployment brings its own PostgreSQL and Redis: the published model names the
            // connection strings it needs (parameters, supplied at deploy time) and nothing of this
            // machine, no local process, path or generated password.
            Console.WriteLine("YAC infrastructure: connection strings identitydb, chatdb and redis (publish mode)");
            return new YacInfrastructure(
                builder.AddConnectionString("identitydb"),
                builder.AddConnectionString("chatdb"),
                builder.AddConnectionString("redis"));
        }

        var mode = InfrastructureModeDetector.Choose(builder.Configuration);
        Console.WriteLine($"YAC infrastructure: {mode.Describe()}");

        if (mode.UseContainers)
        {
            var postgres = builder.AddPostgres("postgres").WithDataVolume("yac-postgres-data");
            var redis = builder.AddRedis("redis").WithDataVolume("yac-redis-data");
            return new YacInfrastructure(
                postgres.AddDatabase("identitydb"),
                postgres.AddDatabase("chatdb"),
                redis);
        }

        var localPostgres = builder.AddLocalPostgres("postgres", mode.Postgres!);
        return new YacInfrastructure(
            localPostgres.AddDatabase("identitydb"),
            localPostgres.AddDatabase("chatdb"),
            builder.AddLocalRedis("redis", mode.RedisServer, mode.RedisServerPath));
    }
}
