using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Xunit.Abstractions;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// The guarantee under faults: 20 sockets (10 users, a device on each gateway replica) in 5 chats, a
/// steady send load, and during it one fault. Afterwards every acknowledged message is in history
/// exactly once, and every socket (a reconnected one after its <c>resume</c>) has every change of its
/// chats in rev order, without gaps or duplicates, up to each chat's final rev, soon after the fault
/// ended, quiet chats included (the load stops right after the fault).
/// </summary>
[Collection(FaultAppCollection.Name)]
public sealed class FaultInjectionTests(FaultAppFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_convergence = TimeSpan.FromSeconds(20);

    [Fact]
    public Task ChatServiceKilledUnderLoad() => RunAsync("kill -9 ChatService", async token =>
    {
        await fixture.KillAsync("chat", token);
        await Task.Delay(TimeSpan.FromSeconds(2), token);
        await fixture.StartAsync("chat", token);
    });

    [Fact]
    public Task PostgresRestartedUnderLoad() => RunAsync("restart PostgreSQL", async token =>
        await fixture.WhileStoppedAsync("postgres", () => Task.Delay(TimeSpan.FromSeconds(2), token), token));

    [Fact]
    public Task RedisStoppedAndStartedUnderLoad() => RunAsync("stop and start Redis", async token =>
        await fixture.WhileStoppedAsync(fixture.RedisProcessName, () => Task.Delay(TimeSpan.FromSeconds(3), token), token));

    [Fact]
    public Task RedisFrozenUnderLoad() => RunAsync("SIGSTOP Redis for 10 s", token =>
        fixture.FreezeRedisAsync(TimeSpan.FromSeconds(10), token));

    [Fact]
    public Task GatewayReplicaKilledUnderLoad() => RunAsync("kill -9 a gateway replica", async token =>
    {
        // Its clients reconnect to the other replica and resume; then the test starts it again.
        var victim = await fixture.KillOneReplicaAsync("gateway", token);
        await Task.Delay(TimeSpan.FromSeconds(1), token);
        await fixture.StartInstanceAsync(victim, token);
    });

    [Fact]
    public async Task TwoChatServiceReplicasCommittingIntoTheSameChatsKeepSeqsAndRevsGapFreeAndEveryChangeReachesEverySocketOnceInOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = timeout.Token;
        var chatReplicas = await fixture.GetChatReplicaUrlsAsync(token);
        Assert.Equal(FaultAppFixture.ChatReplicas, chatReplicas.Count);
        var replicas = (await fixture.GetGatewayReplicaUrlsAsync(token)).OrderBy(url => url.Port).ToList();
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: token);
        var chatIds = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            chatIds.Add(await fixture.CreateGroupAsync(alice, [bob], token));
        }

        var clients = new List<ResumingClient>();
        foreach (var replica in replicas)
        {
            clients.Add(await ResumingClient.StartAsync(fixture, alice, chatIds, replica, replicas, token));
            clients.Add(await ResumingClient.StartAsync(fixture, bob, chatIds, replica, replicas, token));
        }

        // 200 sends at once, alternately straight to each ChatService replica.
        var sends = Enumerable.Range(0, 200).Select(async index =>
        {
            var sender = index % 2 == 0 ? alice : bob;
            using var http = TestHttp.Create(chatReplicas[index % chatReplicas.Count]);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", sender.AccessToken);
            return await http.SendOverRestAsync(chatIds[index % chatIds.Count], $"m{index}", token, $"two-{index}");
        });
        await Task.WhenAll(sends);

        var finalRevs = new Dictionary<Guid, long>();
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        foreach (var chatId in chatIds)
        {
            var page = await aliceHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/messages?afterSeq=0&limit=200", token);
            Assert.Equal(Enumerable.Range(1, 40).Select(seq => (long)seq), page.GetProperty("messages").EnumerateArray().Select(message => message.Seq()));
            var changes = await aliceHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/changes?afterRev=0&limit=500", token);
            var revs = changes.GetProperty("changes").EnumerateArray().Select(change => change.GetProperty("rev").GetInt64()).ToList();
            Assert.Equal(Enumerable.Range(1, 42).Select(rev => (long)rev), revs); // two joins, then 40 messages
            finalRevs[chatId] = revs[^1];
        }

        var converging = Stopwatch.StartNew();
        while (clients.Any(client => !client.HasReached(finalRevs)) && converging.Elapsed < s_convergence)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), token);
        }

        output.WriteLine($"two ChatService replicas: every socket had every change {converging.Elapsed.TotalSeconds:F1} s after the last ack");
        foreach (var client in clients)
        {
            client.AssertOrderedAndComplete(finalRevs);
            Assert.Equal(0, client.Replayed);
        }

        await Task.WhenAll(clients.Select(client => client.DisposeAsync().AsTask()));
    }

    [Fact]
    public async Task AChangeCommittedButNotPublishedBeforeACrashIsPublishedAfterTheRestart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        await using var bobSocket = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync((await fixture.App.GetConnectionStringAsync("redis", timeout.Token))!);
        var published = System.Threading.Channels.Channel.CreateUnbounded<(long Rev, string? TraceParent)>();
        (await redis.GetSubscriber().SubscribeAsync(StackExchange.Redis.RedisChannel.Literal(Yac.Contracts.Channels.Chat(chatId)))).OnMessage(message =>
        {
            var envelope = JsonSerializer.Deserialize((byte[])message.Message!, Yac.Contracts.ContractsJsonContext.Default.EventEnvelope)!;
            if (envelope.Type == Yac.Contracts.EventTypes.ChatChange)
            {
                published.Writer.TryWrite((envelope.Data.GetProperty("rev").GetInt64(), envelope.TraceParent));
            }
        });
        try
        {
            // The publisher is held: ChatService commits and acknowledges, and publishes nothing.
            fixture.PublisherPaused = true;
            using var aliceHttp = fixture.CreateClient("gateway", alice);
            // The sender's trace: kept with the change in the log, it survives the crash too.
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            using var send = new HttpRequestMessage(HttpMethod.Post, $"/api/chats/{chatId}/messages")
            {
                Content = JsonContent.Create(new { clientMsgId = "traced", text = "committed, then the publisher died" }),
            };
            send.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var sent = await aliceHttp.SendAsync(send, timeout.Token);
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            var seq = (await sent.Content.ReadFromJsonAsync<JsonElement>(timeout.Token)).GetProperty("seq").GetInt64();
            await Task.Delay(TimeSpan.FromSeconds(2), timeout.Token);
            Assert.False(published.Reader.TryRead(out var early), $"rev {early} was published while the publisher was held");

            // ChatService dies before publishing; after the restart the change goes out from the log.
            await fixture.KillAsync("chat", timeout.Token);
            fixture.PublisherPaused = false;
            await fixture.StartAsync("chat", timeout.Token);
            var (rev, traceParent) = await published.Reader.ReadAsync(timeout.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(20), timeout.Token);
            Assert.Equal(3, rev);
            Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", traceParent);
            var message = await bobSocket.NextWhereAsync(frame => frame.Type() == "message", timeout.Token, TimeSpan.FromSeconds(20));
            Assert.Equal(seq, message.Seq());
        }
        finally
        {
            fixture.PublisherPaused = false;
        }
    }

    private async Task RunAsync(string fault, Func<CancellationToken, Task> inject)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var token = timeout.Token;
        var replicas = (await fixture.GetGatewayReplicaUrlsAsync(token)).OrderBy(url => url.Port).ToList();
        var users = new List<TestUser>();
        for (var index = 0; index < 10; index++)
        {
            users.Add(await fixture.RegisterAndLoginAsync($"fault{index}", cancellationToken: token));
        }

        // Chat j: users 2j .. 2j+3 (mod 10); each user is in two chats.
        var chats = new List<(Guid Id, TestUser[] Members)>();
        for (var j = 0; j < 5; j++)
        {
            var members = Enumerable.Range(0, 4).Select(offset => users[(2 * j + offset) % 10]).ToArray();
            chats.Add((await fixture.CreateGroupAsync(members[0], members[1..], token), members));
        }

        var clients = new List<ResumingClient>();
        foreach (var user in users)
        {
            var userChats = chats.Where(chat => chat.Members.Contains(user)).Select(chat => chat.Id).ToList();
            foreach (var replica in replicas)
            {
                clients.Add(await ResumingClient.StartAsync(fixture, user, userChats, replica, replicas, token));
            }
        }

        var load = new SendLoad(fixture, chats);
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(token);
        var sending = load.RunAsync(stopLoad.Token);
        await Task.Delay(TimeSpan.FromSeconds(3), token);
        var stopwatch = Stopwatch.StartNew();
        await inject(token);
        var faultTook = stopwatch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1), token);
        await stopLoad.CancelAsync();
        await sending;
        // Every send that was not acknowledged yet goes on until it is: no acknowledged send may be lost.
        await load.FinishPendingAsync(token);
        var faultEnded = Stopwatch.StartNew();

        var finalRevs = new Dictionary<Guid, long>();
        foreach (var (chatId, members) in chats)
        {
            using var http = fixture.CreateClient("gateway", members[0]);
            finalRevs[chatId] = (await http.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}", token)).GetProperty("rev").GetInt64();
        }

        // Every socket converges on every chat's final rev, gap-free, in order, without duplicates.
        while (clients.Any(client => !client.HasReached(finalRevs)) && faultEnded.Elapsed < s_convergence)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), token);
        }

        var converged = faultEnded.Elapsed;
        output.WriteLine($"{fault}: fault took {faultTook.TotalSeconds:F1} s; {load.Acked.Count} sends acknowledged, {load.Retries} retries; " +
            $"sockets converged {converged.TotalSeconds:F1} s after the load ended; {clients.Sum(client => client.Reconnects)} reconnects, {clients.Sum(client => client.Replayed)} replayed frames dropped");
        foreach (var client in clients)
        {
            client.AssertOrderedAndComplete(finalRevs);
        }

        // History: every acknowledged message exactly once, none stored twice.
        foreach (var (chatId, members) in chats)
        {
            using var http = fixture.CreateClient("gateway", members[0]);
            var page = await http.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/messages?afterSeq=0&limit=200", token);
            var stored = page.GetProperty("messages").EnumerateArray().Select(message => message.GetProperty("clientMsgId").GetString()!).ToList();
            Assert.Equal(stored.Count, stored.Distinct().Count());
            var acked = load.Acked.Where(ack => ack.ChatId == chatId).Select(ack => ack.ClientMsgId).ToHashSet();
            Assert.Subset(stored.ToHashSet(), acked);
        }

        // The load is one send at a time, and a send waits out the fault (up to its 10 s timeout): on a
        // busy 2-core machine a PostgreSQL restart left 18 acknowledged; ten still prove it ran across the fault.
        Assert.True(load.Acked.Count >= 10, $"only {load.Acked.Count} sends were acknowledged");
        await Task.WhenAll(clients.Select(client => client.DisposeAsync().AsTask()));
    }

    /// <summary>REST sends through the gateway's public address, each retried with its clientMsgId until acknowledged.</summary>
    private sealed class SendLoad(YacAppFixture fixture, List<(Guid Id, TestUser[] Members)> chats)
    {
        private readonly ConcurrentQueue<(Guid ChatId, TestUser Sender, string ClientMsgId)> _pending = new();

        public ConcurrentBag<(Guid ChatId, string ClientMsgId)> Acked { get; } = [];

        public int Retries;

        public async Task RunAsync(CancellationToken stop)
        {
            var index = 0;
            while (!stop.IsCancellationRequested)
            {
                var (chatId, members) = chats[index % chats.Count];
                var sender = members[index / chats.Count % members.Length];
                var send = (chatId, sender, $"load-{index}");
                if (!await TrySendAsync(send, CancellationToken.None))
                {
                    _pending.Enqueue(send);
                }

                index++;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(40), stop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        public async Task FinishPendingAsync(CancellationToken cancellationToken)
        {
            while (_pending.TryDequeue(out var send))
            {
                while (!await TrySendAsync(send, cancellationToken))
                {
                    Interlocked.Increment(ref Retries);
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                }
            }
        }

        private async Task<bool> TrySendAsync((Guid ChatId, TestUser Sender, string ClientMsgId) send, CancellationToken cancellationToken)
        {
            try
            {
                using var http = fixture.CreateClient("gateway", send.Sender);
                http.Timeout = TimeSpan.FromSeconds(10);
                using var response = await http.PostAsJsonAsync(
                    $"/api/chats/{send.ChatId}/messages", new { clientMsgId = send.ClientMsgId, text = send.ClientMsgId }, cancellationToken);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    Acked.Add((send.ChatId, send.ClientMsgId));
                    return true;
                }

                Assert.True((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests,
                    $"send {send.ClientMsgId}: {(int)response.StatusCode}");
                return false;
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// A client as the contract wants it: it keeps per chat the last rev it saw, and whenever its socket
    /// closes it connects again (to another replica if it must) and resumes with those revs.
    /// </summary>
    private sealed class ResumingClient : IAsyncDisposable
    {
        private readonly YacAppFixture _fixture;
        private readonly TestUser _user;
        private readonly IReadOnlyList<Uri> _replicas;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<Guid, List<long>> _revs = new();
        private readonly ConcurrentQueue<string> _problems = new();
        private Task _running = Task.CompletedTask;
        private Uri _replica;

        private ResumingClient(YacAppFixture fixture, TestUser user, IEnumerable<Guid> chatIds, Uri replica, IReadOnlyList<Uri> replicas)
        {
            _fixture = fixture;
            _user = user;
            _replica = replica;
            _replicas = replicas;
            foreach (var chatId in chatIds)
            {
                _revs[chatId] = [];
            }
        }

        public int Reconnects { get; private set; }

        /// <summary>Frames at or below the last rev seen: the overlap of a resume with what came live before it.</summary>
        public int Replayed { get; private set; }

        public static async Task<ResumingClient> StartAsync(
            YacAppFixture fixture, TestUser user, IEnumerable<Guid> chatIds, Uri replica, IReadOnlyList<Uri> replicas, CancellationToken cancellationToken)
        {
            var client = new ResumingClient(fixture, user, chatIds, replica, replicas);
            // Where each chat stands before the socket opens: the socket resumes from there.
            using var http = fixture.CreateClient("gateway", user);
            var summaries = await http.GetFromJsonAsync<JsonElement>("/api/chats", cancellationToken);
            foreach (var summary in summaries.EnumerateArray())
            {
                if (client._revs.TryGetValue(summary.GetProperty("id").GetGuid(), out var revs))
                {
                    revs.Add(summary.GetProperty("rev").GetInt64());
                }
            }

            var socket = await client.ConnectAndResumeAsync(cancellationToken);
            client._running = client.RunAsync(socket);
            return client;
        }

        public bool HasReached(Dictionary<Guid, long> finalRevs) =>
            _revs.All(chat => finalRevs.TryGetValue(chat.Key, out var final) && Last(chat.Value) >= final);

        public void AssertOrderedAndComplete(Dictionary<Guid, long> finalRevs)
        {
            Assert.Empty(_problems);
            foreach (var (chatId, revs) in _revs)
            {
                List<long> seen;
                lock (revs)
                {
                    seen = [.. revs];
                }

                // The first entry is where the client started; every later one is the next rev.
                for (var i = 1; i < seen.Count; i++)
                {
                    Assert.True(seen[i] == seen[i - 1] + 1, $"{_user.Username} on chat {chatId}: rev {seen[i]} after {seen[i - 1]} ({string.Join(",", seen)})");
                }

                Assert.Equal(finalRevs[chatId], seen[^1]);
            }
        }

        private static long Last(List<long> revs)
        {
            lock (revs)
            {
                return revs.Count == 0 ? 0 : revs[^1];
            }
        }

        private async Task<TestWebSocket> ConnectAndResumeAsync(CancellationToken cancellationToken)
        {
            var attempt = 0;
            while (true)
            {
                try
                {
                    var socket = await TestWebSocket.ConnectAsync(_replica, _user.AccessToken, cancellationToken).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
                    await socket.SendAsync(new { type = "resume", revs = _revs.ToDictionary(chat => chat.Key.ToString(), chat => Last(chat.Value)) }, cancellationToken);
                    return socket;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // This replica is gone or not ready: try the next one, a little later.
                    _replica = _replicas[++attempt % _replicas.Count];
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                }
            }
        }

        private async Task RunAsync(TestWebSocket socket)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    JsonElement frame;
                    try
                    {
                        frame = await socket.NextAsync(_stop.Token, TimeSpan.FromMinutes(5));
                    }
                    catch (Exception) when (!_stop.IsCancellationRequested)
                    {
                        // The socket closed (a replica died): connect again and resume.
                        await socket.DisposeAsync();
                        Reconnects++;
                        socket = await ConnectAndResumeAsync(_stop.Token);
                        continue;
                    }

                    if (frame.TryGetProperty("rev", out var revElement) && frame.TryGetProperty("chatId", out var chatElement)
                        && _revs.TryGetValue(chatElement.GetGuid(), out var revs))
                    {
                        lock (revs)
                        {
                            // A resume replays from the rev the client names; what it already has is dropped here, as
                            // any client does. Anything else out of order shows as a gap below.
                            if (revs.Count == 0 || revElement.GetInt64() > revs[^1])
                            {
                                revs.Add(revElement.GetInt64());
                            }
                            else
                            {
                                Replayed++;
                            }
                        }
                    }
                    else if (frame.Type() == "error" && frame.GetProperty("code").GetString() != "unavailable")
                    {
                        _problems.Enqueue(frame.GetRawText());
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            finally
            {
                await socket.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
            _stop.Dispose();
        }
    }
}
