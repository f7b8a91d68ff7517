using Npgsql;

namespace Yac.AppHost.Infrastructure;

/// <summary>A PostgreSQL server run by the AppHost from the machine's binaries.</summary>
internal sealed class LocalPostgresServer(
    IDistributedApplicationBuilder builder,
    IResourceBuilder<ExecutableResource> server,
    IResourceBuilder<ParameterResource> password)
{
    private readonly List<string> _databases = [];

    public IResourceBuilder<ExecutableResource> Server => server;

    /// <summary>A database on this server, created when the server is first ready.</summary>
    public IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name)
    {
        _databases.Add(name);
        return builder.AddConnectionString(name, ConnectionString(name))
            .WithParentRelationship(server)
            .WaitFor(server);
    }

    internal IReadOnlyList<string> Databases => _databases;

    internal ReferenceExpression ConnectionString(string database)
    {
        var endpoint = server.GetEndpoint("tcp");
        return ReferenceExpression.Create(
            $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username=postgres;Password={password};Database={database}");
    }
}

internal static class LocalPostgresExtensions
{
    /// <summary>
    /// Runs <c>initdb</c> once (as a one-shot resource) and then <c>postgres</c> in the foreground,
    /// so the orchestrator tracks, logs and stops the postmaster itself. As root, both run as the
    /// <c>postgres</c> OS user through <c>setpriv</c>.
    /// </summary>
    public static LocalPostgresServer AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, LocalPostgresInstallation installation)
    {
        var password = builder.AddParameter($"{name}-password", installation.GetOrCreatePassword(), secret: true);
        var asUser = installation.RunAsUser is null
            ? ""
            : $"setpriv --reuid={installation.RunAsUser} --regid={installation.RunAsUser} --init-groups -- ";
        var owner = installation.RunAsUser is null ? "" : $"-o {installation.RunAsUser} -g {installation.RunAsUser} ";

        // initdb only where the cluster does not exist yet; the password reaches initdb through a
        // file that lives only for that call, never through the command line.
        var initScript = $$"""
            set -eu
            install -d -m 755 "$YAC_PG_ROOT"
            install -d -m 700 {{owner}}"$YAC_PG_DATA"
            install -d -m 775 {{owner}}"$YAC_PG_RUN"
            if [ ! -s "$YAC_PG_DATA/PG_VERSION" ]; then
              pwfile="$YAC_PG_RUN/initdb-password"
              (umask 077; printf '%s' "$YAC_PG_PASSWORD" > "$pwfile")
              {{(installation.RunAsUser is null ? "" : $"chown {installation.RunAsUser} \"$pwfile\"")}}
              {{asUser}}"$YAC_PG_BIN/initdb" -D "$YAC_PG_DATA" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --no-locale
              rm -f "$pwfile"
            else
              echo "PostgreSQL cluster already initialized in $YAC_PG_DATA"
            fi
            """;

        var init = builder.AddExecutable($"{name}-init", "/bin/sh", "/", "-c", initScript)
            .WithEnvironment("YAC_PG_ROOT", installation.DataRoot)
            .WithEnvironment("YAC_PG_DATA", installation.DataDirectory)
            .WithEnvironment("YAC_PG_RUN", installation.SocketDirectory)
            .WithEnvironment("YAC_PG_BIN", installation.BinDirectory)
            .WithEnvironment("YAC_PG_PASSWORD", password);

        // PostgreSQL reads SIGTERM as "smart" shutdown, which waits for every client to leave;
        // the orchestrator's SIGTERM becomes SIGINT ("fast": disconnect, checkpoint, exit).
        const string serverScript = """
            "$@" &
            pid=$!
            trap 'kill -INT "$pid"' TERM INT
            wait "$pid" || true
            wait "$pid"
            """;
        var server = builder.AddExecutable(name, "/bin/sh", "/")
            .WithEndpoint(name: "tcp", scheme: "tcp");
        var endpoint = server.GetEndpoint("tcp");
        server.WithArgs(context =>
            {
                context.Args.Add("-c");
                context.Args.Add(serverScript);
                context.Args.Add("postgres-server");
                if (installation.RunAsUser is not null)
                {
                    context.Args.Add("setpriv");
                    context.Args.Add($"--reuid={installation.RunAsUser}");
                    context.Args.Add($"--regid={installation.RunAsUser}");
                    context.Args.Add("--init-groups");
                    context.Args.Add("--");
                }

                context.Args.Add(Path.Combine(installation.BinDirectory, "postgres"));
                context.Args.Add("-D");
                context.Args.Add(installation.DataDirectory);
                context.Args.Add("-k");
                context.Args.Add(installation.SocketDirectory);
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                context.Args.Add("-c");
                context.Args.Add("max_connections=300");
                context.Args.Add("-p");
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
            })
            .WaitForCompletion(init);

        var localServer = new LocalPostgresServer(builder, server, password);
        var healthCheckKey = $"{name}-check";
        string? maintenanceConnectionString = null;
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => maintenanceConnectionString ?? throw new InvalidOperationException("PostgreSQL has not started yet."),
            name: healthCheckKey);
        server.WithHealthCheck(healthCheckKey);

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server.Resource, async (_, cancellationToken) =>
            maintenanceConnectionString = await localServer.ConnectionString("postgres").GetValueAsync(cancellationToken));

        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (_, cancellationToken) =>
        {
            await using var dataSource = NpgsqlDataSource.Create(maintenanceConnectionString!);
            foreach (var database in localServer.Databases)
            {
                await CreateDatabaseIfMissingAsync(dataSource, database, cancellationToken);
            }
        });

        return localServer;
    }

    private static async Task CreateDatabaseIfMissingAsync(NpgsqlDataSource dataSource, string database, CancellationToken cancellationToken)
    {
        await using var exists = dataSource.CreateCommand("SELECT 1 FROM pg_database WHERE datname = $1");
        exists.Parameters.Add(new NpgsqlParameter { Value = database });
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }

        // Database names cannot be parameters; these come from the AppHost's own code, quoted anyway.
        await using var create = dataSource.CreateCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
        await create.ExecuteNonQueryAsync(cancellationToken);
    }
}
