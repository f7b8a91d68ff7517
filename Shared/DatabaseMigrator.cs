using Microsoft.EntityFrameworkCore;

namespace Yac.Shared;

/// <summary>
/// Applies a service's committed EF Core migrations before the host starts serving. A failure
/// stops the service at once with the error (never a half-started service that answers 500s).
/// </summary>
internal sealed partial class DatabaseMigrator<TContext>(IServiceProvider services, ILogger<DatabaseMigrator<TContext>> logger)
    : IHostedService
    where TContext : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var pending = (await context.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            LogApplying(typeof(TContext).Name, pending.Count, pending);
        }

        // The execution strategy retries the whole migration on transient failures.
        var strategy = context.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(() => context.Database.MigrateAsync(cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} migration(s) to {Context}: {Migrations}")]
    private partial void LogApplying(string context, int count, IReadOnlyList<string> migrations);
}

internal static class DatabaseMigratorExtensions
{
    public static IServiceCollection AddDatabaseMigrator<TContext>(this IServiceCollection services)
        where TContext : DbContext
        => services.AddHostedService<DatabaseMigrator<TContext>>();
}
