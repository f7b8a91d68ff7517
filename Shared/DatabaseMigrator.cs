using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Yac.Shared;

/// <summary>What a service does with its database's migrations, from <c>Yac:Database:Migrations</c>.</summary>
internal enum DatabaseMigrationMode
{
    /// <summary>Apply pending migrations at startup, then serve (the AppHost's way, and the default).</summary>
    Apply,

    /// <summary>Apply pending migrations and exit without serving (Kubernetes' migration init container).</summary>
    ApplyAndExit,

    /// <summary>
    /// Apply nothing; refuse to start while a migration of this build is pending (a Kubernetes
    /// replica, whose init container migrated before it; its database role needs no DDL rights).
    /// </summary>
    Verify,
}

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
internal sealed partial class DatabaseMigrator<TContext>(
    IServiceProvider services, IConfiguration configuration, ILogger<DatabaseMigrator<TContext>> logger)
    : IHostedService
    where TContext : DbContext
{
    private const string Remedy =
        "If its data is disposable (a development machine), start from an empty database: stop YAC and delete "
        + "the local PostgreSQL folder that the AppHost prints at startup ('data in ...'; /var/lib/yac/postgres as root, "
        + "else ~/.local/share/yac/postgres), or with containers the volume yac-postgres-data. "
        + "Otherwise run the build that made this database.";

    public Task StartAsync(CancellationToken cancellationToken) =>
        DatabaseMigrations.ReadMode(configuration) == DatabaseMigrationMode.Verify
            ? MigrateAsync(applyPending: false, cancellationToken)
            : MigrateAsync(applyPending: true, cancellationToken);

    /// <summary>
    /// Checks that the database belongs to this build, then applies its pending migrations, or with
    /// <paramref name="applyPending"/> false refuses the database while any is pending. Concurrent
    /// callers (replicas starting together on a fresh database) are serialized by a PostgreSQL advisory
    /// lock held around the whole check and migration: without it, a second replica could read the
    /// history while the first was creating it, and stop.
    /// </summary>
    public async Task MigrateAsync(bool applyPending, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        await using var migrationLock = new NpgsqlConnection(context.Database.GetConnectionString());
        await migrationLock.OpenAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", migrationLock))
        {
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        // Released when the connection closes, whatever happens below.
        await MigrateLockedAsync(context, applyPending, cancellationToken);
    }

    /// <summary>"YACMIG" as a number: the advisory lock of a migration in progress.</summary>
    private const long MigrationLockKey = 0x5941434D4947;

    private async Task MigrateLockedAsync(TContext context, bool applyPending, CancellationToken cancellationToken)
    {
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
        if (!applyPending)
        {
            if (pending.Count > 0)
            {
                throw Refuse(database, contextName,
                    $"its migration(s) {Describe(pending)} are not applied yet, and {DatabaseMigrations.ModeKey}={DatabaseMigrationMode.Verify} applies none.",
                    remedy: $"Run this build once with {DatabaseMigrations.ModeKey}={DatabaseMigrationMode.ApplyAndExit} first "
                        + "(in Kubernetes, the Deployment's migrate init container does).");
            }

            LogVerified(database, contextName);
            return;
        }

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

    private InvalidOperationException Refuse(
        string database, string contextName, string what, Exception? cause = null, string remedy = Remedy)
    {
        var message = $"Database {database} does not match this build's {contextName}: {what} {remedy}";
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

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Database {Database} has every migration of this build's {Context} (Yac:Database:Migrations=Verify applies none)")]
    private partial void LogVerified(string database, string context);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} migration(s) to {Context}: {Migrations}")]
    private partial void LogApplying(string context, int count, IReadOnlyList<string> migrations);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Database {Database} has migration(s) newer than this build's {Context}: {Migrations}. A newer build upgraded it; this one starts on the assumption that the newer schema is backward compatible.")]
    private partial void LogNewerDatabase(string database, string context, IReadOnlyList<string> migrations);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Message}")]
    private partial void LogRefused(string message);
}

internal static class DatabaseMigrations
{
    public const string ModeKey = "Yac:Database:Migrations";

    public static DatabaseMigrationMode ReadMode(IConfiguration configuration)
    {
        var value = configuration[ModeKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return DatabaseMigrationMode.Apply;
        }

        return Enum.TryParse<DatabaseMigrationMode>(value.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new InvalidOperationException($"{ModeKey} must be Apply, ApplyAndExit or Verify; it is '{value}'.");
    }
}

internal static class DatabaseMigratorExtensions
{
    /// <summary>Migrates (or verifies, see <see cref="DatabaseMigrationMode"/>) the database before the host serves.</summary>
    public static IServiceCollection AddDatabaseMigrator<TContext>(this IServiceCollection services)
        where TContext : DbContext
    {
        services.AddSingleton<DatabaseMigrator<TContext>>();
        return services.AddHostedService(provider => provider.GetRequiredService<DatabaseMigrator<TContext>>());
    }

    /// <summary>Whether this run only migrates: <c>Yac:Database:Migrations=ApplyAndExit</c>.</summary>
    public static bool IsMigrationOnlyRun(this WebApplication app) =>
        DatabaseMigrations.ReadMode(app.Configuration) == DatabaseMigrationMode.ApplyAndExit;

    /// <summary>
    /// Applies the pending migrations without starting the host (no server, no Redis, no background
    /// service), then disposes the app so that every log line is written. A failure throws, so the
    /// process exits non-zero. SIGTERM or SIGINT cancels it.
    /// </summary>
    public static async Task MigrateAndExitAsync<TContext>(this WebApplication app)
        where TContext : DbContext
    {
        using var stopping = new CancellationTokenSource();
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        try
        {
            await app.Services.GetRequiredService<DatabaseMigrator<TContext>>().MigrateAsync(applyPending: true, stopping.Token);
        }
        finally
        {
            await app.DisposeAsync();
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }
    }
}
