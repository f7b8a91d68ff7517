using System.Diagnostics;

namespace Yac.AppHost.Infrastructure;

/// <summary>Which Redis-protocol server runs locally.</summary>
internal enum LocalRedisServer
{
    /// <summary>The machine's <c>redis-server</c>.</summary>
    RedisServer,

    /// <summary>Microsoft Garnet hosted in the Yac.EmbeddedRedis project: no install needed.</summary>
    EmbeddedGarnet,
}

/// <summary>The facts the AppHost chose its infrastructure from.</summary>
internal sealed record InfrastructureMode(
    bool UseContainers,
    string Reason,
    LocalPostgresInstallation? Postgres,
    LocalRedisServer RedisServer,
    string? RedisServerPath)
{
    public string Describe() => UseContainers
        ? $"containers ({Reason})"
        : $"local processes ({Reason}); PostgreSQL {Postgres!.BinDirectory}, data in {Postgres.DataRoot}; "
          + (RedisServer == LocalRedisServer.RedisServer ? $"redis-server {RedisServerPath}" : "embedded Garnet");
}

internal static class InfrastructureModeDetector
{
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(10);

    public static InfrastructureMode Choose(IConfiguration configuration)
    {
        var requested = (configuration["Yac:Infrastructure"] ?? "auto").Trim().ToLowerInvariant();
        var (useContainers, reason) = requested switch
        {
            "containers" => (true, "Yac:Infrastructure=containers"),
            "local" => (false, "Yac:Infrastructure=local"),
            "auto" => ContainerRuntimeAnswers(configuration, out var runtime)
                ? (true, $"{runtime} answers")
                : (false, $"no container runtime answers ({runtime})"),
            _ => throw new InvalidOperationException(
                $"Yac:Infrastructure must be auto, containers or local; it is '{requested}'."),
        };

        if (useContainers)
        {
            return new InfrastructureMode(true, reason, null, LocalRedisServer.RedisServer, null);
        }

        var postgres = LocalPostgresInstallation.Find(configuration)
            ?? throw new DistributedApplicationException(
                "YAC needs PostgreSQL: no container runtime answers and no PostgreSQL server binaries were found. "
                + "Install PostgreSQL (Debian/Ubuntu: 'apt-get install postgresql'; the server need not run, YAC starts its own), "
                + "or start Docker or Podman, or set Yac:Postgres:BinDirectory to the folder holding 'postgres' and 'initdb'.");

        var (redisServer, redisPath) = ChooseRedis(configuration);
        return new InfrastructureMode(false, reason, postgres, redisServer, redisPath);
    }

    private static (LocalRedisServer Server, string? Path) ChooseRedis(IConfiguration configuration)
    {
        var requested = (configuration["Yac:Redis"] ?? "auto").Trim().ToLowerInvariant();
        switch (requested)
        {
            case "garnet":
                return (LocalRedisServer.EmbeddedGarnet, null);
            case "redis-server":
                return (LocalRedisServer.RedisServer, ExecutableSearch.Find("redis-server")
                    ?? throw new DistributedApplicationException(
                        "Yac:Redis=redis-server but no redis-server is on PATH; install it ('apt-get install redis-server') or use Yac:Redis=garnet."));
            case "auto":
                var path = ExecutableSearch.Find("redis-server");
                return path is null ? (LocalRedisServer.EmbeddedGarnet, null) : (LocalRedisServer.RedisServer, path);
            default:
                throw new InvalidOperationException($"Yac:Redis must be auto, redis-server or garnet; it is '{requested}'.");
        }
    }

    /// <summary>
    /// Asks the container runtime Aspire would use (docker unless ASPIRE_CONTAINER_RUNTIME says
    /// otherwise) whether its daemon answers. The client alone is not enough: without a daemon,
    /// Aspire's container resources wait forever.
    /// </summary>
    private static bool ContainerRuntimeAnswers(IConfiguration configuration, out string runtime)
    {
        runtime = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        var path = ExecutableSearch.Find(runtime);
        if (path is null)
        {
            runtime = $"no '{runtime}' on PATH";
            return false;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(path, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(s_probeTimeout))
            {
                process.Kill(entireProcessTree: true);
                runtime = $"'{runtime} info' did not answer within {s_probeTimeout.TotalSeconds:0} s";
                return false;
            }

            var answered = process.ExitCode == 0;
            if (!answered)
            {
                runtime = $"'{runtime} info' exited with {process.ExitCode}";
            }

            return answered;
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            runtime = $"'{runtime}' could not start: {exception.Message}";
            return false;
        }
    }
}

internal static class ExecutableSearch
{
    public static string? Find(string name)
    {
        if (Path.IsPathRooted(name))
        {
            return File.Exists(name) ? name : null;
        }

        var pathVariable = Environment.GetEnvironmentVariable("PATH") ?? "";
        return pathVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}
