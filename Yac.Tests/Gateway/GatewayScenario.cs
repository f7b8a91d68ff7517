using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Aspire.Hosting.Testing;
using StackExchange.Redis;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>What the gateway tests do over REST (through the gateway's proxy, as a client would).</summary>
internal static class GatewayScenario
{
    public static async Task<Guid> CreateGroupAsync(this YacAppFixture fixture, TestUser owner, IEnumerable<TestUser> members, CancellationToken cancellationToken)
    {
        using var http = fixture.CreateClient("gateway", owner);
        using var response = await http.PostAsJsonAsync(
            "/api/chats",
            new { kind = "group", title = $"gateway test {Guid.NewGuid():N}"[..40], memberIds = members.Select(member => member.Id).ToArray() },
            cancellationToken);
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.Created, "create chat");
        using var chat = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return chat.RootElement.GetProperty("id").GetGuid();
    }

    public static async Task AddMemberAsync(this YacAppFixture fixture, TestUser owner, Guid chatId, TestUser member, CancellationToken cancellationToken)
    {
        using var http = fixture.CreateClient("gateway", owner);
        using var response = await http.PutAsync($"/api/chats/{chatId}/members/{member.Id}", content: null, cancellationToken);
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.NoContent, "add member");
    }

    public static async Task LeaveAsync(this YacAppFixture fixture, TestUser member, Guid chatId, CancellationToken cancellationToken)
    {
        using var http = fixture.CreateClient("gateway", member);
        using var response = await http.DeleteAsync($"/api/chats/{chatId}/members/{member.Id}", cancellationToken);
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.NoContent, "leave");
    }

    /// <summary>
    /// Alice and Bob in a new group chat, Alice's socket on one replica and Bob's on the other. A
    /// socket's hello comes once its replica is subscribed to the chat, so both replicas listen on it.
    /// </summary>
    public static async Task<TwoReplicaChat> StartTwoReplicaChatAsync(this YacAppFixture fixture, CancellationToken cancellationToken)
    {
        var (first, second) = await fixture.GetTwoReplicasAsync(cancellationToken);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: cancellationToken);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: cancellationToken);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], cancellationToken);
        var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, cancellationToken);
        try
        {
            var bobSocket = await TestWebSocket.ConnectAsync(second, bob.AccessToken, cancellationToken);
            return new TwoReplicaChat(first, second, alice, bob, chatId, aliceSocket, bobSocket);
        }
        catch
        {
            await aliceSocket.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Alice and Bob in a new group chat over three devices: Alice's laptop on the first replica, her
    /// phone (a second device session) and Bob on the second, so a message from the laptop reaches one
    /// of its sender's own devices and a member through the other replica.
    /// </summary>
    public static async Task<ThreeDeviceChat> StartThreeDeviceChatAsync(this YacAppFixture fixture, CancellationToken cancellationToken)
    {
        var (first, second) = await fixture.GetTwoReplicasAsync(cancellationToken);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: cancellationToken);
        var alicePhone = await fixture.LoginAgainAsync(alice, "phone", cancellationToken);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: cancellationToken);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], cancellationToken);
        var opened = new List<TestWebSocket>();
        try
        {
            opened.Add(await TestWebSocket.ConnectAsync(first, alice.AccessToken, cancellationToken));
            opened.Add(await TestWebSocket.ConnectAsync(second, alicePhone.AccessToken, cancellationToken));
            opened.Add(await TestWebSocket.ConnectAsync(second, bob.AccessToken, cancellationToken));
            return new ThreeDeviceChat(alice, bob, chatId, opened[0], opened[1], opened[2]);
        }
        catch
        {
            foreach (var socket in opened)
            {
                await socket.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Each replica's own URL, so a test can put a socket on a chosen replica.</summary>
    public static async Task<(Uri First, Uri Second)> GetTwoReplicasAsync(this YacAppFixture fixture, CancellationToken cancellationToken)
    {
        var urls = await fixture.GetGatewayReplicaUrlsAsync(cancellationToken);
        Assert.True(urls.Count >= 2, "the app runs two gateway replicas");
        return (urls[0], urls[1]);
    }

    /// <summary>The HTTP status of a refused WebSocket upgrade.</summary>
    public static async Task<HttpStatusCode> RefusedStatusAsync(Uri replica, string? token, string? origin, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(TestWebSocket.WebSocketUri(replica), cancellationToken));
        return socket.HttpStatusCode;
    }

    /// <summary>Publishes raw bytes on a Redis channel of the app (as a broken or foreign publisher would); returns how many subscribers got them.</summary>
    public static async Task<long> PublishRawAsync(this YacAppFixture fixture, string channel, IEnumerable<string> payloads)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis"))!);
        var subscriber = redis.GetSubscriber();
        var leastReceivers = long.MaxValue;
        foreach (var payload in payloads)
        {
            leastReceivers = Math.Min(leastReceivers, await subscriber.PublishAsync(RedisChannel.Literal(channel), payload));
        }

        return leastReceivers;
    }

    /// <summary>
    /// Waits until a service's logs (all replicas) hold at least <paramref name="count"/> lines that
    /// match, and returns every line. Logs reach the orchestrator a little after they are written.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WaitForLogLinesAsync(
        this YacAppFixture fixture, string resource, Func<string, bool> match, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lines = await fixture.GetResourceLogsAsync(resource, cancellationToken);
            if (lines.Count(match) >= count)
            {
                return lines;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }

    public static string Type(this JsonElement frame) => frame.GetProperty("type").GetString()!;

    /// <summary>Whether the frame answers the send with <paramref name="clientMsgId"/>: its <c>ack</c>, or an <c>error</c> with that <c>ref</c>.</summary>
    public static bool IsAnswerTo(this JsonElement frame, string clientMsgId) =>
        (frame.Type() == "ack" && frame.TryGetProperty("clientMsgId", out var acked) && acked.GetString() == clientMsgId)
        || (frame.Type() == "error" && frame.TryGetProperty("ref", out var reference) && reference.GetString() == clientMsgId);

    public static long Seq(this JsonElement frame) => frame.GetProperty("seq").GetInt64();
}

/// <summary>What <see cref="GatewayScenario.StartTwoReplicaChatAsync"/> set up; disposing it closes both sockets.</summary>
internal sealed record TwoReplicaChat(
    Uri First, Uri Second, TestUser Alice, TestUser Bob, Guid ChatId, TestWebSocket AliceSocket, TestWebSocket BobSocket) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await AliceSocket.DisposeAsync();
        await BobSocket.DisposeAsync();
    }
}

/// <summary>What <see cref="GatewayScenario.StartThreeDeviceChatAsync"/> set up; disposing it closes the three sockets.</summary>
internal sealed record ThreeDeviceChat(
    TestUser Alice, TestUser Bob, Guid ChatId, TestWebSocket AliceLaptop, TestWebSocket AlicePhone, TestWebSocket BobSocket) : IAsyncDisposable
{
    public IReadOnlyList<TestWebSocket> Sockets => [AliceLaptop, AlicePhone, BobSocket];

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in Sockets)
        {
            await socket.DisposeAsync();
        }
    }
}
