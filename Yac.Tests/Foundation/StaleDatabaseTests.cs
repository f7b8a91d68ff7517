using System.Diagnostics;
using System.Reflection;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Foundation;

/// <summary>
/// A service started on a database that another build of YAC made refuses to start and says what
/// does not match and what to do, instead of leaving the app waiting for it. Each case runs
/// ChatService's own build, as the AppHost does, on a database of its own on the app's PostgreSQL.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class StaleDatabaseTests(YacAppFixture fixture)
{
    private const string Remedy = "delete the local PostgreSQL folder that the AppHost prints at startup";

    public static TheoryData<string, string, string> StaleDatabases => new()
    {
        {
            "its history lists a migration that was replaced since",
            """
            CREATE TABLE "__EFMigrationsHistory" (migration_id varchar(150) PRIMARY KEY, product_version varchar(32) NOT NULL);
            INSERT INTO "__EFMigrationsHistory" VALUES ('20261127140440_Initial', '10.0.0');
            """,
            "its migration history lists 20261127140440_Initial, which this build does not have"
        },
        {
            // What YAC's first build left in chatdb: a history table without the snake_case names.
            "its history table has other column names",
            """
            CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
            INSERT INTO "__EFMigrationsHistory" VALUES ('20261127140440_Initial', '10.0.0');
            """,
            "its migration history table cannot be read by this build (42703: column \"migration_id\" does not exist)"
        },
        {
            "it has tables but no history",
            "CREATE TABLE chats (id uuid PRIMARY KEY);",
            "failed with 42P07: relation \"chats\" already exists, so its tables do not match its migration history"
        },
    };

    [Theory]
    [MemberData(nameof(StaleDatabases))]
    public async Task ChatServiceRefusesToStartOnADatabaseMadeByAnotherBuildAndSaysWhatToDo(string situation, string schema, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var chatDb = new NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync("chatdb", timeout.Token));
        var database = $"stale_{Guid.NewGuid():N}";
        await using var server = NpgsqlDataSource.Create(chatDb.ConnectionString);
        await ExecuteAsync(server, $"CREATE DATABASE {database}", timeout.Token);
        try
        {
            await using (var stale = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(chatDb.ConnectionString) { Database = database }.ConnectionString))
            {
                await ExecuteAsync(stale, schema, timeout.Token);
            }

            chatDb.Database = database;
            var (exitCode, output) = await RunToExitAsync(
                "chat",
                new Dictionary<string, string>
                {
                    ["ConnectionStrings__chatdb"] = chatDb.ConnectionString,
                    ["ConnectionStrings__redis"] = (await fixture.App.GetConnectionStringAsync("redis", timeout.Token))!,
                    ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                },
                timeout.Token);

            Assert.True(exitCode != 0, $"{situation}: the service exited with 0:\n{output}");
            foreach (var expected in new[] { $"Database '{database}' (", "does not match this build's ChatDbContext: ", reason, Remedy })
            {
                Assert.True(output.Contains(expected, StringComparison.Ordinal), $"{situation}: no \"{expected}\" in what the service wrote:\n{output}");
            }
        }
        finally
        {
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)", CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Runs a service's build the way the AppHost does (<c>dotnet run --no-build</c>), with only the
    /// given settings, until it exits; its stdout and stderr together.
    /// </summary>
    private async Task<(int ExitCode, string Output)> RunToExitAsync(
        string service, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var model = fixture.App.Services.GetRequiredService<DistributedApplicationModel>();
        var project = model.Resources.OfType<ProjectResource>().Single(resource => resource.Name == service).GetProjectMetadata();
        var configuration = typeof(StaleDatabaseTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var start = new ProcessStartInfo("dotnet", ["run", "--project", project.ProjectPath, "--no-build", "--configuration", configuration, "--no-launch-profile"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output)
            {
                Assert.Fail($"{service} did not exit:\n{output}");
            }
        }

        // WaitForExitAsync returned after the redirected streams reached their end, too.
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
