using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// An app of its own for tests that kill or stop gateway replicas, with a spare replica so that
/// one can die, one can stop gracefully, and one survives both.
/// </summary>
public sealed class ReplicaFailureAppFixture : YacAppFixture
{
    public override int GatewayReplicas => 3;

    /// <summary>A dead replica's users go offline within these plus a little (the defaults take up to 40 s).</summary>
    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder) =>
        builder.CreateResourceBuilder<ProjectResource>("gateway")
            .WithEnvironment("Yac__Gateway__PresenceHeartbeatInterval", "00:00:02")
            .WithEnvironment("Yac__Gateway__PresenceHeartbeatTtl", "00:00:05");

    /// <summary>The process of the replica that serves <paramref name="replicaUrl"/>.</summary>
    public async Task<Process> GetGatewayReplicaProcessAsync(Uri replicaUrl, CancellationToken cancellationToken)
    {
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            var pid = resourceEvent.Snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value;
            if (resourceEvent.Resource.Name == "gateway" && Serves(resourceEvent.Snapshot, replicaUrl) && pid is not null)
            {
                return Process.GetProcessById(Convert.ToInt32(pid, CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException($"No gateway replica serves {replicaUrl}");
    }

    /// <summary>Kills the process of the replica that serves <paramref name="replicaUrl"/> (SIGKILL: no goodbye, no 1012).</summary>
    public async Task KillGatewayReplicaAsync(Uri replicaUrl, CancellationToken cancellationToken)
    {
        using var process = await GetGatewayReplicaProcessAsync(replicaUrl, cancellationToken);
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(cancellationToken);
    }

    /// <summary>The gatewayId that each replica's hello names, keyed to that replica's own address.</summary>
    public async Task<Dictionary<string, Uri>> GetReplicasByGatewayIdAsync(string accessToken, CancellationToken cancellationToken)
    {
        var replicas = new Dictionary<string, Uri>();
        foreach (var url in await GetGatewayReplicaUrlsAsync(cancellationToken))
        {
            using var socket = new ClientWebSocket();
            var socketUrl = new UriBuilder(url) { Scheme = "ws", Path = "/ws", Query = $"access_token={Uri.EscapeDataString(accessToken)}" }.Uri;
            await socket.ConnectAsync(socketUrl, cancellationToken);
            var buffer = new byte[16 * 1024];
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            using var hello = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, received.Count));
            replicas[hello.RootElement.GetProperty("gatewayId").GetString()!] = url;
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
        }

        return replicas;
    }

    private static bool Serves(CustomResourceSnapshot snapshot, Uri replicaUrl) =>
        snapshot.EnvironmentVariables.FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
            .Split(';', StringSplitOptions.RemoveEmptyEntries).Any(url => new Uri(url).Port == replicaUrl.Port) == true;
}

/// <summary>The gateway's replica-failure tests: they take the replicas in port order (first killed, third stopped).</summary>
[CollectionDefinition(Name)]
public sealed class ReplicaFailureAppCollection : ICollectionFixture<ReplicaFailureAppFixture>
{
    public const string Name = "YAC app whose gateway replica dies";
}

/// <summary>
/// The web client's replica-failure test, on an app of its own: it kills whichever replica holds a
/// page's socket, which the gateway tests' choice of replicas cannot take into account.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WebClientReplicaFailureCollection : ICollectionFixture<ReplicaFailureAppFixture>
{
    public const string Name = "YAC app whose gateway replica dies under a browser";
}
