using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Yac.Shared;

/// <summary>
/// Applies a service's committed EF Core migrations before the host starts serving. A failure
/// stops the service at once with the error (never a half-started service that answers 500s).
/// </summary>
/// <remarks>
/// EF Core itself skips history rows it has no migration for, and then fails (or, worse, succeeds)
/// on tables that are not what its migrations expect. A database made by another build of YAC is
/// refused instead, with a message that says what does not match and what to do:
/// <list type="bullet">
/// <item>a recorded migration that this build does not have and that is older than this build's
/// newest one: the histories diverged (a migration was replaced or removed);</item>
/// <item>a history table this build cannot read (e.g. written with other column names);</item>
/// <item>a pending migration that fails on the schema (a table that already exists, a column
/// that does not): the tables do not match the history.</item>
/// </list>
/// Recorded migrations newer than every migration of this build mean that a newer build has
/// upgraded the database (as during a rolling upgrade): the service starts and says so.
/// </remarks>
internal sealed partial class DatabaseMigrator<TContext>(IServiceProvider services, ILogger<DatabaseMigrator<TContext>> logger)
    : IHostedService
    where TContext : DbContext
{
    private const string Remedy =
        "If its data is disposable (a development machine), start from an empty database: stop YAC and delete "
        + "the local PostgreSQL folder that the AppHost prints at startup ('data in ...'; /var/lib/yac/postgres as root, "
        + "else ~/.local/share/yac/postgres), or with containers the volume yac-postgres-data. "
        + "Otherwise run the build that made this database.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        var connection = context.Database.GetDbConnection();
        var database = $"'{connection.Database}' ({connection.DataSource})";
        var contextName = typeof(TContext).Name;

        var known = context.Database.GetMigrations().ToList();
        var applied = await ReadAppliedMigrationsAsync(context, database, contextName, cancellationToken);

        var unknown = applied.Except(known, StringComparer.Ordinal).ToList();
        var newestKnown = known.Count == 0 ? "" : known.Max(StringComparer.Ordinal)!;
        var replaced = unknown.Where(id => string.CompareOrdinal(id, newestKnown) < 0).ToList();
        if (replaced.Count > 0)
        {
            throw Refuse(database, contextName,
                $"its migration history lists {string.Join(", ", replaced)}, which this build does not have "
                + $"(this build's migrations: {Describe(known)}), so its tables were made by other migrations.");
        }

        if (unknown.Count > 0)
        {
            LogNewerDatabase(database, contextName, unknown);
        }

        var pending = known.Except(applied, StringComparer.Ordinal).ToList();
        if (pending.Count > 0)
        {
            LogApplying(contextName, pending.Count, pending);
        }

        try
        {
            // The execution strategy retries the whole migration on transient failures.
            var strategy = context.Database.CreateExecutionStrategy();
            await strategy.ExecuteAsync(() => context.Database.MigrateAsync(cancellationToken));
        }
        catch (PostgresException exception) when (IsSchemaMismatch(exception))
        {
            throw Refuse(database, contextName,
                $"applying {Describe(pending)} failed with {exception.SqlState}: {exception.MessageText}, "
                + "so its tables do not match its migration history.", exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<List<string>> ReadAppliedMigrationsAsync(
        TContext context, string database, string contextName, CancellationToken cancellationToken)
    {
        try
        {
            var strategy = context.Database.CreateExecutionStrategy();
            return await strategy.ExecuteAsync(async () => (await context.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList());
        }
        catch (PostgresException exception) when (IsSchemaMismatch(exception))
        {
            throw Refuse(database, contextName,
                $"its migration history table cannot be read by this build ({exception.SqlState}: {exception.MessageText}).", exception);
        }
    }

    private InvalidOperationException Refuse(string database, string contextName, string what, Exception? cause = null)
    {
        var message = $"Database {database} does not match this build's {contextName}: {what} {Remedy}";
        LogRefused(message);
        return new InvalidOperationException(message, cause);
    }

    private static string Describe(List<string> migrations) => migrations.Count == 0 ? "none" : string.Join(", ", migrations);

    /// <summary>
    /// Class 42 (syntax error or access rule violation) holds what a schema that differs from the
    /// migrations produces: undefined or duplicate tables, columns and objects. Connection and
    /// transient errors are other classes and keep their own meaning.
    /// </summary>
    private static bool IsSchemaMismatch(PostgresException exception) =>
        exception.SqlState is PostgresErrorCodes.UndefinedColumn or PostgresErrorCodes.UndefinedTable
            or PostgresErrorCodes.UndefinedObject or PostgresErrorCodes.DuplicateTable
            or PostgresErrorCodes.DuplicateColumn or PostgresErrorCodes.DuplicateObject
            or PostgresErrorCodes.DatatypeMismatch or PostgresErrorCodes.InvalidTableDefinition;

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} migration(s) to {Context}: {Migrations}")]
    private partial void LogApplying(string context, int count, IReadOnlyList<string> migrations);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Database {Database} has migration(s) newer than this build's {Context}: {Migrations}. A newer build upgraded it; this one starts on the assumption that the newer schema is backward compatible.")]
    private partial void LogNewerDatabase(string database, string context, IReadOnlyList<string> migrations);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Message}")]
    private partial void LogRefused(string message);
}

internal static class DatabaseMigratorExtensions
{
    public static IServiceCollection AddDatabaseMigrator<TContext>(this IServiceCollection services)
        where TContext : DbContext
        => services.AddHostedService<DatabaseMigrator<TContext>>();
}
