using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>These tests kill and stop gateway replicas: they run on an app of their own.</summary>
[Collection(ReplicaFailureAppCollection.Name)]
public sealed class GatewayReplicaFailureTests(ReplicaFailureAppFixture fixture)
{
    [Fact]
    public async Task KilledReplicaTakesItsUsersOfflineAndItsClientsResumeOnTheOtherReplicaWithoutLoss()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var replicas = (await fixture.GetGatewayReplicaUrlsAsync(timeout.Token)).OrderBy(url => url.Port).ToList();
        var (doomed, survivor) = (replicas[0], replicas[1]);
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
        await WaitForPresenceAsync(bobSocket, carol.Id, online: false, timeout.Token, TimeSpan.FromSeconds(30));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"offline after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task SigtermClosesTheReplicasSocketsWith1012AndItExitsWithinTheShutdownTimeout()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        // Ordered by port, so that each test of this collection takes its own replicas.
        var stopping = (await fixture.GetGatewayReplicaUrlsAsync(timeout.Token)).OrderBy(url => url.Port).ElementAt(2);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        await using var first = await TestWebSocket.ConnectAsync(stopping, alice.AccessToken, timeout.Token);
        await using var second = await TestWebSocket.ConnectAsync(stopping, alice.AccessToken, timeout.Token);
        using var process = await fixture.GetGatewayReplicaProcessAsync(stopping, timeout.Token);

        var stopwatch = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(timeout.Token);
        }

        Assert.Equal((WebSocketCloseStatus)1012, await first.WaitForCloseAsync(timeout.Token));
        Assert.Equal((WebSocketCloseStatus)1012, await second.WaitForCloseAsync(timeout.Token));
        await process.WaitForExitAsync(timeout.Token);
        // The host's shutdown timeout is 30 s; with its sockets closed at once the replica needs far less.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"exited after {stopwatch.Elapsed}");
    }

    private static Task<JsonElement> WaitForPresenceAsync(TestWebSocket socket, Guid userId, bool online, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        socket.NextWhereAsync(
            frame => frame.Type() == "presence"
                && frame.GetProperty("userId").GetGuid() == userId
                && frame.GetProperty("online").GetBoolean() == online,
            cancellationToken, timeout);
}
