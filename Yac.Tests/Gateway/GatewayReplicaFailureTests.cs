using System.Diagnostics;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>An app of its own: these tests kill a gateway replica.</summary>
public sealed class ReplicaFailureAppFixture : YacAppFixture
{
    /// <summary>Kills the process of the replica that serves <paramref name="replicaUrl"/> (SIGKILL: no goodbye).</summary>
    public async Task KillGatewayReplicaAsync(Uri replicaUrl, CancellationToken cancellationToken)
    {
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            var snapshot = resourceEvent.Snapshot;
            if (resourceEvent.Resource.Name != "gateway"
                || snapshot.EnvironmentVariables.FirstOrDefault(variable => variable.Name == "ASPNETCORE_URLS")?.Value?
                    .Split(';').Any(url => new Uri(url).Port == replicaUrl.Port) != true)
            {
                continue;
            }

            var pid = snapshot.Properties.FirstOrDefault(property => property.Name == "executable.pid")?.Value;
            if (pid is null)
            {
                continue;
            }

            using var process = Process.GetProcessById(Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellationToken);
            return;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicaFailureAppCollection : ICollectionFixture<ReplicaFailureAppFixture>
{
    public const string Name = "YAC app whose gateway replica dies";
}

[Collection(ReplicaFailureAppCollection.Name)]
public sealed class GatewayReplicaFailureTests(ReplicaFailureAppFixture fixture)
{
    [Fact]
    public async Task KilledReplicaTakesItsUsersOfflineAndItsClientsResumeOnTheOtherReplicaWithoutLoss()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var (doomed, survivor) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var carol = await fixture.RegisterAndLoginAsync("carol", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(bob, [alice, carol], timeout.Token);
        using var bobHttp = fixture.CreateClient("chat", bob);

        await using var bobSocket = await TestWebSocket.ConnectAsync(survivor, bob.AccessToken, timeout.Token);
        await using var aliceSocket = await TestWebSocket.ConnectAsync(doomed, alice.AccessToken, timeout.Token);
        await using var carolSocket = await TestWebSocket.ConnectAsync(doomed, carol.AccessToken, timeout.Token);
        await WaitForPresenceAsync(bobSocket, carol.Id, online: true, timeout.Token);

        var lastSeen = await bobHttp.SendOverRestAsync(chatId, "before the crash", timeout.Token);
        Assert.Equal(lastSeen, (await aliceSocket.NextWhereAsync(frame => frame.Type() == "message", timeout.Token)).Seq());

        await fixture.KillGatewayReplicaAsync(doomed, timeout.Token);
        await aliceSocket.Closed.WaitAsync(timeout.Token);

        for (var i = 1; i <= 5; i++)
        {
            await bobHttp.SendOverRestAsync(chatId, $"while alice reconnects {i}", timeout.Token);
        }

        // Alice's client reconnects to the replica that is left and resumes.
        await using var aliceAgain = await TestWebSocket.ConnectAsync(survivor, alice.AccessToken, timeout.Token);
        await aliceAgain.SendAsync(new { type = "resume", chats = new Dictionary<string, long> { [chatId.ToString()] = lastSeen } }, timeout.Token);
        var replayed = new List<long>();
        JsonElement frame;
        while ((frame = await aliceAgain.NextWhereAsync(frame => frame.Type() is "message" or "resumed", timeout.Token)).Type() == "message")
        {
            replayed.Add(frame.Seq());
        }

        Assert.Equal(Enumerable.Range((int)lastSeen + 1, 5).Select(seq => (long)seq), replayed);
        var liveSeq = await bobHttp.SendOverRestAsync(chatId, "live again", timeout.Token);
        Assert.Equal(liveSeq, (await aliceAgain.NextWhereAsync(frame => frame.Type() == "message", timeout.Token)).Seq());

        // Carol did not come back: her peers see her offline once the dead replica's heartbeat expires.
        var stopwatch = Stopwatch.StartNew();
        await WaitForPresenceAsync(bobSocket, carol.Id, online: false, timeout.Token, TimeSpan.FromSeconds(60));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60), $"offline after {stopwatch.Elapsed}");
    }

    private static Task<JsonElement> WaitForPresenceAsync(TestWebSocket socket, Guid userId, bool online, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        socket.NextWhereAsync(
            frame => frame.Type() == "presence"
                && frame.GetProperty("userId").GetGuid() == userId
                && frame.GetProperty("online").GetBoolean() == online,
            cancellationToken, timeout);
}
