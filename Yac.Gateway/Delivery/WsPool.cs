using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.Gateway.Chats;
using Yac.Gateway.Presence;
using Yac.Gateway.Protocol;
using Yac.Gateway.Sockets;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Delivery;

/// <summary>
/// The one owner of this replica's sockets and of what they subscribe to. Every change and every
/// event goes through one loop (no locks anywhere): per chat one Redis subscription
/// (reference-counted by local sockets) and one <see cref="ChatStream"/> that puts the chat's log in
/// rev order without gaps; per socket and chat a <see cref="SocketChatState"/>, so each socket gets
/// each change once, in order, from the rev at which it joined (or resumed) on. Membership changes
/// travel in the same stream, so a member leaving gets nothing after the <c>memberLeft</c> and a
/// member joining everything from the <c>memberJoined</c> on. The loop never waits for a socket and
/// never does I/O itself: fetches run beside it (bounded in number) and always report back as a
/// command, whatever happens to them.
/// </summary>
internal sealed partial class WsPool(
    RedisSubscriptions subscriptions,
    RedisEventReader reader,
    ChatServiceClient chatService,
    PresenceTracker presence,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<WsPool> logger) : BackgroundService
{
    /// <summary>Log reads in flight at once from this replica (a Redis reconnect must not become a herd).</summary>
    private const int MaxConcurrentFetches = 16;

    private readonly Channel<PoolCommand> _commands = Channel.CreateBounded<PoolCommand>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // Redis readers slow down rather than lose events
    });

    private readonly SemaphoreSlim _fetchSlots = new(MaxConcurrentFetches);
    private readonly GapFillPolicy _fillPolicy = new(options.Value.GapFillDelay, options.Value.GapFillMaxDelay);

    // Owned by the loop.
    private readonly Dictionary<ClientConnection, SocketEntry> _sockets = [];
    private readonly Dictionary<Guid, LocalChat> _chats = [];
    private readonly Dictionary<Guid, HashSet<ClientConnection>> _users = [];
    private long _generations;
    private bool _stopping;
    private bool _reconcileInFlight;
    private CancellationToken _stoppingToken;

    /// <summary>
    /// Adds a socket with its user's chats. The returned task completes once Redis confirmed every
    /// subscription the socket needs, so that a <c>hello</c> sent after it misses no live change.
    /// </summary>
    public async Task<Task> RegisterAsync(ClientConnection connection, IReadOnlyList<ChatSummary> chats)
    {
        var subscribed = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        await PostAsync(new RegisterSocket(connection, chats, subscribed));
        return await subscribed.Task;
    }

    public ValueTask UnregisterAsync(ClientConnection connection) => PostAsync(new UnregisterSocket(connection));

    public ValueTask ResumeAsync(ClientConnection connection, ResumeFrame frame) => PostAsync(new ResumeRequested(connection, frame));

    /// <summary>The gateway reads the socket's frames from now on: its resume window (<see cref="GatewayOptions.ResumeWindow"/>) starts.</summary>
    public ValueTask ListeningAsync(ClientConnection connection) => PostAsync(new SocketListening(connection));

    /// <summary>The socket did something else than resume first: it goes live at once.</summary>
    public ValueTask EndResumeWindowAsync(ClientConnection connection) => PostAsync(new HoldEnded(connection));

    /// <summary>Closes every socket with 1012 (graceful shutdown) and refuses new ones.</summary>
    public ValueTask CloseAllAsync() => PostAsync(new CloseAllSockets());

    public ValueTask PostAsync(PoolCommand command) => _commands.Writer.WriteAsync(command, CancellationToken.None);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        subscriptions.Reconnected += OnRedisReconnected;
        _ = subscriptions.SubscribeAsync(Channels.Revocations, OnGlobalEventAsync);
        _ = subscriptions.SubscribeAsync(Channels.Presence, OnGlobalEventAsync);
        Later(new ReconcileDue(), options.Value.ReconcileInterval);
        try
        {
            await foreach (var command in _commands.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    Handle(command);
                }
                catch (Exception exception)
                {
                    // One bad command must never stop delivery for everyone.
                    LogCommandFailed(command.GetType().Name, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            subscriptions.Reconnected -= OnRedisReconnected;
        }
    }

    private void Handle(PoolCommand command)
    {
        switch (command)
        {
            case ChatChangeArrived arrived:
                OnChange(arrived);
                break;
            case ChatBroadcast broadcast:
                OnBroadcast(broadcast);
                break;
            case RegisterSocket register:
                OnRegister(register);
                break;
            case UnregisterSocket unregister:
                OnUnregister(unregister.Connection);
                break;
            case UserJoinedChat joined:
                OnUserJoined(joined);
                break;
            case UserChatsRead read:
                OnUserChatsRead(read);
                break;
            case DeviceRevoked revoked:
                OnDeviceRevoked(revoked);
                break;
            case PresenceChanged changed:
                OnPresenceChanged(changed);
                break;
            case ChatSubscribed subscribed:
                RequestCatchUp(subscribed.ChatId, jitter: TimeSpan.Zero);
                break;
            case UserSubscribed subscribed:
                ReadUserChats(subscribed.UserId, TimeSpan.Zero);
                break;
            case RedisReconnected:
                OnRedisReconnectedCommand();
                break;
            case FillDue due:
                OnFillDue(due.ChatId);
                break;
            case FillFetched fetched:
                OnFillFetched(fetched);
                break;
            case SocketFetchDue due:
                OnSocketFetchDue(due);
                break;
            case SocketFetched fetched:
                OnSocketFetched(fetched);
                break;
            case ResumeRequested resume:
                OnResume(resume);
                break;
            case SocketListening listening:
                OnListening(listening.Connection);
                break;
            case HoldEnded ended:
                EndHold(ended.Connection);
                break;
            case ReconcileDue:
                OnReconcileDue();
                break;
            case RevsFetched revs:
                OnRevsFetched(revs);
                break;
            case CloseAllSockets:
                _stopping = true;
                foreach (var connection in _sockets.Keys)
                {
                    connection.RequestClose(CloseCodes.ServiceRestart, "server restarting");
                }

                break;
        }
    }

    // ---- Sockets in and out ----

    private void OnRegister(RegisterSocket register)
    {
        var connection = register.Connection;
        if (_stopping)
        {
            connection.RequestClose(CloseCodes.ServiceRestart, "server restarting");
            register.Subscribed.TrySetResult(Task.CompletedTask);
            return;
        }

        // Held until its resume (or the window's end): a resume sent right after hello must not find
        // changes ahead of the ones it replays already on the wire.
        var hold = options.Value.ResumeWindow > TimeSpan.Zero;
        _sockets[connection] = new SocketEntry { Held = hold };
        GatewayTelemetry.OpenSockets.Add(1);
        var waits = new List<Task>();
        foreach (var chat in register.Chats)
        {
            // Live from the chat list on: what changed since it was read is caught up.
            AddToChat(connection, chat.Id, chat.Rev, chat.LastSeq, waits, hold);
        }

        PublishChatIds(connection);
        if (!_users.TryGetValue(connection.UserId, out var userSockets))
        {
            _users[connection.UserId] = userSockets = [];
            var userSubscribed = subscriptions.SubscribeAsync(Channels.User(connection.UserId), OnUserEventAsync);
            waits.Add(userSubscribed);
            // A join committed between the chat list and this subscription would otherwise go unseen.
            PostWhenDone(userSubscribed, new UserSubscribed(connection.UserId));
            presence.UserConnected(connection.UserId, connection.ChatIds);
        }

        userSockets.Add(connection);
        register.Subscribed.TrySetResult(Task.WhenAll(waits));
    }

    private void OnUnregister(ClientConnection connection)
    {
        if (!_sockets.Remove(connection, out var entry))
        {
            return;
        }

        GatewayTelemetry.OpenSockets.Add(-1);
        foreach (var chatId in entry.Chats.Keys.ToList())
        {
            ReleaseChat(connection, chatId);
        }

        if (_users.TryGetValue(connection.UserId, out var userSockets) && userSockets.Remove(connection) && userSockets.Count == 0)
        {
            _users.Remove(connection.UserId);
            subscriptions.Unsubscribe(Channels.User(connection.UserId));
            presence.UserDisconnected(connection.UserId, connection.ChatIds);
        }
    }

    /// <summary>
    /// Puts a socket in a chat from <paramref name="afterRev"/> on: it receives every change after it.
    /// When the chat's stream is already further, the socket catches up from the log first.
    /// </summary>
    private void AddToChat(ClientConnection connection, Guid chatId, long afterRev, long lastSeq, List<Task>? waits, bool hold = false)
    {
        // A read of the user's chats (or a join heard on the user's channel) older than a leave this
        // socket was already told of would put it back in, and it would be told it left twice.
        if (!_sockets.TryGetValue(connection, out var entry) || entry.Chats.ContainsKey(chatId) || LeftSince(entry, chatId, afterRev + 1))
        {
            return;
        }

        var state = new SocketChatState(afterRev, lastSeq);
        entry.Chats[chatId] = state;
        if (!_chats.TryGetValue(chatId, out var chat))
        {
            _chats[chatId] = chat = new LocalChat(chatId, new ChatStream(afterRev, _fillPolicy));
            var subscribed = subscriptions.SubscribeAsync(Channels.Chat(chatId), OnChatEventAsync);
            waits?.Add(subscribed);
            // Changes committed before the subscription took effect would otherwise stay unseen
            // until the chat's next change shows the gap.
            PostWhenDone(subscribed, new ChatSubscribed(chatId));
        }

        chat.Sockets[connection] = state;
        LogSocketInChat(connection.Id, chatId, afterRev, chat.Stream.Rev);
        if (hold)
        {
            state.CatchUp = SocketCatchUp.Hold(++_generations);
        }
        else if (chat.Stream.Rev > afterRev)
        {
            StartCatchUp(connection, chatId, state, afterSeq: null, afterRev: null, resume: null);
        }
    }

    /// <summary>Takes a socket out of a chat; the chat's subscription goes with its last local socket.</summary>
    private void ReleaseChat(ClientConnection connection, Guid chatId)
    {
        if (_sockets.TryGetValue(connection, out var entry) && entry.Chats.Remove(chatId, out var state) && state.CatchUp?.Resume is { } resume)
        {
            FinishResumeChat(connection, resume, chatId, state);
        }

        if (_chats.TryGetValue(chatId, out var chat) && chat.Sockets.Remove(connection) && chat.Sockets.Count == 0)
        {
            _chats.Remove(chatId);
            subscriptions.Unsubscribe(Channels.Chat(chatId));
        }
    }

    /// <summary>
    /// Takes a socket out of a chat it was told it left; <paramref name="atLeastRev"/> is the rev of
    /// that leave (or the highest known before it), so that a membership read begun before the leave
    /// cannot put the socket back in (and tell it "left" a second time).
    /// </summary>
    private void LeaveChat(ClientConnection connection, Guid chatId, long atLeastRev)
    {
        ReleaseChat(connection, chatId);
        if (_sockets.TryGetValue(connection, out var entry))
        {
            entry.LeftAt[chatId] = Math.Max(atLeastRev, entry.LeftAt.GetValueOrDefault(chatId));
        }

        PublishChatIds(connection);
    }

    /// <summary>Whether a membership that began at <paramref name="joinedRev"/> is one the socket has already seen end.</summary>
    private static bool LeftSince(SocketEntry entry, Guid chatId, long joinedRev) =>
        entry.LeftAt.TryGetValue(chatId, out var leftAt) && joinedRev <= leftAt;

    private void PublishChatIds(ClientConnection connection)
    {
        if (_sockets.TryGetValue(connection, out var entry))
        {
            connection.PublishChatIds(entry.Chats.Keys);
        }
    }

    // ---- The chat's stream ----

    private void OnChange(ChatChangeArrived arrived)
    {
        if (_chats.TryGetValue(arrived.ChatId, out var chat))
        {
            var ready = chat.Stream.Accept(arrived.Change, time.GetUtcNow());
            LogChangeArrived(arrived.ChatId, arrived.Change.Rev, chat.Stream.Rev, chat.Stream.Waiting, chat.Sockets.Count);
            DeliverAll(chat, ready);
            ScheduleFill(chat);
        }
        else
        {
            LogChangeForNoLocalChat(arrived.ChatId, arrived.Change.Rev);
        }
    }

    private void DeliverAll(LocalChat chat, IReadOnlyList<ChatChange> changes)
    {
        foreach (var change in changes)
        {
            Deliver(chat, change);
            if (!_chats.ContainsKey(chat.Id))
            {
                return; // its last local member left with this change
            }
        }
    }

    /// <summary>Writes one in-order change to every socket of the chat that is live on it, then applies what it changes.</summary>
    private void Deliver(LocalChat chat, ChatChange change)
    {
        var frame = new OutgoingFrame(change.Frame, change.SentAt, change.Trace);
        foreach (var (connection, state) in chat.Sockets)
        {
            if (state.CatchUp is null && change.Rev > state.LastSentRev && connection.TryEnqueue(frame))
            {
                Sent(state, change);
            }
            else if (state.CatchUp is { IsHeld: true } hold && change.Rev > state.LastSentRev)
            {
                hold.Keep(change);
            }
        }

        switch (change.Type)
        {
            case ChatChange.MemberLeft when change.UserId is { } leftUserId && _users.TryGetValue(leftUserId, out var leaving):
                foreach (var connection in leaving.ToList())
                {
                    if (_sockets[connection].Chats.TryGetValue(chat.Id, out var state))
                    {
                        if (state.CatchUp is null)
                        {
                            LeaveChat(connection, chat.Id, change.Rev);
                        }
                        else
                        {
                            state.LeftAt = change; // it catches up to here, then leaves
                        }
                    }
                }

                break;
            case ChatChange.MemberJoined when change.UserId is { } joinedUserId && _users.TryGetValue(joinedUserId, out var joining):
                foreach (var connection in joining)
                {
                    if (!_sockets[connection].Chats.ContainsKey(chat.Id))
                    {
                        // The stream is exactly at the join: the socket gets this change and everything after it.
                        var state = new SocketChatState(change.Rev - 1, 0);
                        _sockets[connection].Chats[chat.Id] = state;
                        chat.Sockets[connection] = state;
                        if (connection.TryEnqueue(frame))
                        {
                            Sent(state, change);
                        }

                        PublishChatIds(connection);
                    }
                }

                break;
        }
    }

    private static void Sent(SocketChatState state, ChatChange change)
    {
        state.LastSentRev = change.Rev;
        if (change.Seq is { } seq && seq > state.LastSentSeq)
        {
            state.LastSentSeq = seq;
        }
    }

    private void RequestCatchUp(Guid chatId, TimeSpan jitter)
    {
        if (!_chats.TryGetValue(chatId, out var chat))
        {
            return;
        }

        chat.Stream.RequestCatchUp();
        if (jitter > TimeSpan.Zero && !chat.FillTimerArmed)
        {
            chat.FillTimerArmed = true;
            Later(new FillDue(chatId), jitter);
            return;
        }

        ScheduleFill(chat);
    }

    /// <summary>Starts the chat's fetch if its stream wants one now, or arms a timer for when it will.</summary>
    private void ScheduleFill(LocalChat chat)
    {
        if (chat.FillTimerArmed || chat.Sockets.Count == 0)
        {
            return;
        }

        if (!chat.Stream.TryStartFetch(time.GetUtcNow(), out var afterRev, out var dueIn))
        {
            if (dueIn is { } delay)
            {
                chat.FillTimerArmed = true;
                Later(new FillDue(chat.Id), delay);
            }

            return;
        }

        // Any local member may read the chat's log; spread the reads over their tokens (not of one leaving).
        var readers = chat.Sockets.Where(pair => pair.Value.LeftAt is null).Select(pair => pair.Key).ToList();
        if (readers.Count == 0)
        {
            readers = [.. chat.Sockets.Keys];
        }

        var token = readers[Random.Shared.Next(readers.Count)].AccessToken;
        var chatId = chat.Id;
        LogFillStarted(chatId, afterRev);
        Fetch(
            cancellationToken => chatService.GetChangesAsync(token, chatId, afterRev, afterSeq: null, cancellationToken),
            result => new FillFetched(chatId, token, result ?? Unavailable));
    }

    private void OnFillDue(Guid chatId)
    {
        if (_chats.TryGetValue(chatId, out var chat))
        {
            chat.FillTimerArmed = false;
            ScheduleFill(chat);
        }
    }

    private void OnFillFetched(FillFetched fetched)
    {
        if (!_chats.TryGetValue(fetched.ChatId, out var chat))
        {
            return;
        }

        var now = time.GetUtcNow();
        LogFillFetched(fetched.ChatId, fetched.Page.Status, fetched.Page.Value?.Changes.Count ?? 0, chat.Stream.Rev);
        if (fetched.Page is { Status: ChatCallStatus.Ok, Value: { } batch })
        {
            if (batch.Changes.Count > 0)
            {
                GatewayTelemetry.GapFills.Add(1);
            }

            DeliverAll(chat, chat.Stream.FetchSucceeded(batch.Changes, batch.HasMore, now));
        }
        else if (fetched.Page.Status is ChatCallStatus.NotFound or ChatCallStatus.Forbidden)
        {
            // The token's user is not a member any more: their sockets leave (the log can no longer be
            // read with their token), and the chat is read with another member's.
            chat.Stream.FetchFailed(now - _fillPolicy.MaxDelay);
            var userId = chat.Sockets.Keys.FirstOrDefault(socket => socket.AccessToken == fetched.AccessToken)?.UserId;
            foreach (var connection in chat.Sockets.Keys.Where(socket => socket.UserId == userId).ToList())
            {
                connection.TryEnqueue(ServerFrames.MemberLeftWithoutRev(chat.Id, connection.UserId));
                LeaveChat(connection, chat.Id, chat.Stream.Rev);
            }
        }
        else
        {
            chat.Stream.FetchFailed(now);
            LogFillFailed(chat.Id, chat.Stream.Rev, fetched.Page.Status);
        }

        if (_chats.TryGetValue(fetched.ChatId, out chat))
        {
            ScheduleFill(chat);
        }
    }

    // ---- A socket reading a chat from the log (resume, late join) ----

    private void StartCatchUp(ClientConnection connection, Guid chatId, SocketChatState state, long? afterSeq, long? afterRev, ResumeProgress? resume)
    {
        if (state.CatchUp?.Resume is { } previous && !ReferenceEquals(previous, resume))
        {
            FinishResumeChat(connection, previous, chatId, state);
        }

        if (afterRev is { } rev)
        {
            state.LastSentRev = rev;
        }

        state.CatchUp = new SocketCatchUp(++_generations, afterSeq, afterRev, resume);
        LogCatchUpStarted(connection.Id, chatId, state.LastSentRev, afterSeq);
        Post(new SocketFetchDue(connection, chatId, state.CatchUp.Generation));
    }

    private void OnSocketFetchDue(SocketFetchDue due)
    {
        var connection = due.Connection;
        if (!TryGetCatchUp(connection, due.ChatId, due.Generation, out var state, out var catchUp) || catchUp.InFlight)
        {
            return;
        }

        catchUp.InFlight = true;
        var token = connection.AccessToken;
        var afterRev = state.LastSentRev;
        var afterSeq = catchUp.AfterSeq;
        var chatId = due.ChatId;
        var generation = due.Generation;
        Fetch(
            cancellationToken => chatService.GetChangesAsync(token, chatId, afterRev, afterSeq, cancellationToken),
            result => new SocketFetched(connection, chatId, generation, result ?? Unavailable));
    }

    private void OnSocketFetched(SocketFetched fetched)
    {
        var connection = fetched.Connection;
        // A socket that closed, left the chat or started another catch-up meanwhile: this read is dropped.
        if (!TryGetCatchUp(connection, fetched.ChatId, fetched.Generation, out var state, out var catchUp))
        {
            return;
        }

        catchUp.InFlight = false;
        var result = fetched.Page;
        if (result.Status is ChatCallStatus.NotFound or ChatCallStatus.Forbidden)
        {
            // Not a member any more: whatever the log still holds for this socket cannot be read with its token.
            connection.TryEnqueue(state.LeftAt?.Frame ?? ServerFrames.MemberLeftWithoutRev(fetched.ChatId, connection.UserId));
            if (catchUp.Resume is { } resume)
            {
                connection.TryEnqueue(ServerFrames.Error(ErrorCodes.NotFound, "The chat does not exist or you are not a member.", fetched.ChatId.ToString("D")));
                state.CatchUp = null;
                FinishResumeChat(connection, resume, fetched.ChatId, state);
            }

            LeaveChat(connection, fetched.ChatId, state.LeftAt?.Rev ?? state.LastSentRev);
            return;
        }

        if (result is not { Status: ChatCallStatus.Ok, Value: { } batch })
        {
            // History unavailable: read again, backing off, for as long as it takes (never skipped).
            catchUp.Failures++;
            Later(new SocketFetchDue(connection, fetched.ChatId, catchUp.Generation), _fillPolicy.DelayAfter(catchUp.Failures));
            return;
        }

        catchUp.Failures = 0;
        var changes = batch.Changes;
        if (catchUp.AfterSeq is not null)
        {
            // The first read of a resume by seq: it starts at the first message after that seq (none: nothing to replay).
            catchUp.AfterSeq = null;
            var start = changes.Count > 0 ? changes[0].Rev - 1 : catchUp.AfterRev ?? state.LastSentRev;
            if (catchUp.AfterRev is { } afterRev && afterRev < start)
            {
                start = afterRev; // the client's rev is older still: read from there
                changes = [];
                batch = batch with { HasMore = true };
            }

            state.LastSentRev = start;
        }

        foreach (var change in changes)
        {
            if (change.Rev <= state.LastSentRev)
            {
                continue;
            }

            if (change.Rev != state.LastSentRev + 1)
            {
                break; // never a gap on a socket: the next read starts where this one stopped
            }

            var leaves = (change.Type == ChatChange.MemberLeft && change.UserId == connection.UserId) || state.LeftAt?.Rev == change.Rev;
            if (!connection.TryEnqueue(new OutgoingFrame(change.Frame, Trace: change.Trace)))
            {
                return; // the socket is closing as too slow
            }

            Sent(state, change);
            if (leaves)
            {
                state.CatchUp = null;
                if (catchUp.Resume is { } resume)
                {
                    FinishResumeChat(connection, resume, fetched.ChatId, state);
                }

                LeaveChat(connection, fetched.ChatId, change.Rev);
                return;
            }
        }

        var streamRev = _chats.TryGetValue(fetched.ChatId, out var chat) ? chat.Stream.Rev : 0;
        if (batch.HasMore || state.LastSentRev < streamRev)
        {
            Post(new SocketFetchDue(connection, fetched.ChatId, catchUp.Generation));
            return;
        }

        // Caught up with the stream: live from here on (the stream skips what the log already brought).
        state.CatchUp = null;
        LogCatchUpDone(connection.Id, fetched.ChatId, state.LastSentRev);
        if (catchUp.Resume is { } done)
        {
            FinishResumeChat(connection, done, fetched.ChatId, state);
        }
    }

    private bool TryGetCatchUp(ClientConnection connection, Guid chatId, long generation, out SocketChatState state, out SocketCatchUp catchUp)
    {
        state = null!;
        catchUp = null!;
        if (!_sockets.TryGetValue(connection, out var entry) || !entry.Chats.TryGetValue(chatId, out var found)
            || found.CatchUp is not { } current || current.Generation != generation)
        {
            return false;
        }

        state = found;
        catchUp = current;
        return true;
    }

    // ---- resume ----

    private void OnResume(ResumeRequested request)
    {
        var connection = request.Connection;
        if (!_sockets.TryGetValue(connection, out var entry))
        {
            return;
        }

        if (entry.Resume is not null)
        {
            connection.TryEnqueue(ServerFrames.Error(ErrorCodes.RateLimited, "A resume is already in progress on this socket; wait for its 'resumed'."));
            return;
        }

        var frame = request.Frame;
        var chatIds = frame.Chats.Keys.Union(frame.Revs.Keys).ToList();
        var resume = new ResumeProgress(frame, chatIds.Count);
        entry.Resume = resume;
        foreach (var chatId in chatIds)
        {
            if (!entry.Chats.TryGetValue(chatId, out var state))
            {
                connection.TryEnqueue(ServerFrames.Error(ErrorCodes.Forbidden, "You are not a member of this chat.", chatId.ToString("D")));
                resume.Remaining--;
                continue;
            }

            long? afterSeq = frame.Chats.TryGetValue(chatId, out var seq) ? seq : null;
            long? afterRev = frame.Revs.TryGetValue(chatId, out var rev) ? rev : null;
            state.LeftAt = null;
            StartCatchUp(connection, chatId, state, afterSeq, afterRev, resume);
        }

        if (resume.Remaining == 0)
        {
            CompleteResume(connection, entry, resume);
        }

        // The chats the resume did not name go live (after what they held).
        EndHold(connection);
    }

    // ---- A new socket's resume window ----

    private void OnListening(ClientConnection connection)
    {
        var window = options.Value.ResumeWindow;
        if (window > TimeSpan.Zero)
        {
            Later(new HoldEnded(connection), window);
        }
        else
        {
            EndHold(connection);
        }
    }

    /// <summary>Ends a new socket's hold: each held chat gets what it kept (or reads the log when that is not all) and goes live.</summary>
    private void EndHold(ClientConnection connection)
    {
        if (!_sockets.TryGetValue(connection, out var entry) || !entry.Held)
        {
            return;
        }

        entry.Held = false;
        foreach (var (chatId, state) in entry.Chats.ToList())
        {
            if (state.CatchUp is not { IsHeld: true } hold)
            {
                continue;
            }

            // What it kept runs without a gap from where it stands (the stream delivers in rev order);
            // it must reach the stream, or the user's leave when they left meanwhile.
            var upTo = state.LeftAt?.Rev ?? (_chats.TryGetValue(chatId, out var chat) ? chat.Stream.Rev : state.LastSentRev);
            var kept = hold.Held;
            var complete = kept is not null && (kept.Count == 0
                ? upTo <= state.LastSentRev
                : kept[0].Rev == state.LastSentRev + 1 && kept[^1].Rev >= upTo);
            if (!complete)
            {
                // Overflowed, or behind the stream from the start: the log has it all.
                StartCatchUp(connection, chatId, state, afterSeq: null, afterRev: null, resume: null);
                continue;
            }

            state.CatchUp = null;
            foreach (var change in kept!.TakeWhile(change => change.Rev <= upTo))
            {
                if (!connection.TryEnqueue(new OutgoingFrame(change.Frame, change.SentAt, change.Trace)))
                {
                    return; // the socket is closing as too slow
                }

                Sent(state, change);
            }

            if (state.LeftAt is { } left)
            {
                LeaveChat(connection, chatId, left.Rev); // told up to and including its memberLeft
            }
        }
    }

    private void FinishResumeChat(ClientConnection connection, ResumeProgress resume, Guid chatId, SocketChatState state)
    {
        if (resume.Frame.Chats.TryGetValue(chatId, out var lastSeen))
        {
            resume.LastSeqs[chatId] = Math.Max(lastSeen, state.LastSentSeq);
        }

        if (resume.Frame.Revs.ContainsKey(chatId))
        {
            resume.Revs[chatId] = state.LastSentRev;
        }

        if (--resume.Remaining == 0 && _sockets.TryGetValue(connection, out var entry) && ReferenceEquals(entry.Resume, resume))
        {
            CompleteResume(connection, entry, resume);
        }
    }

    private static void CompleteResume(ClientConnection connection, SocketEntry entry, ResumeProgress resume)
    {
        entry.Resume = null;
        connection.TryEnqueue(ServerFrames.Resumed(resume.LastSeqs, resume.Revs));
    }

    // ---- Membership learnt from the user's channel, and reconciliation ----

    private void OnUserJoined(UserJoinedChat joined)
    {
        if (_users.TryGetValue(joined.UserId, out var userSockets))
        {
            foreach (var connection in userSockets.ToList())
            {
                AddToChat(connection, joined.ChatId, joined.Rev - 1, 0, waits: null);
                PublishChatIds(connection);
            }
        }
    }

    /// <summary>Reads the user's chats again (with one of their sockets' tokens) to find joins this replica did not hear of.</summary>
    private void ReadUserChats(Guid userId, TimeSpan delay)
    {
        if (!_users.TryGetValue(userId, out var userSockets) || userSockets.Count == 0)
        {
            return;
        }

        var token = userSockets.First().AccessToken;
        Fetch(
            async cancellationToken =>
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, cancellationToken);
                }

                return await chatService.GetChatsAsync(token, cancellationToken);
            },
            result => new UserChatsRead(userId, result is { Status: ChatCallStatus.Ok } ? result.Value : null));
    }

    private void OnUserChatsRead(UserChatsRead read)
    {
        if (read.Chats is null || !_users.TryGetValue(read.UserId, out var userSockets))
        {
            return;
        }

        foreach (var connection in userSockets.ToList())
        {
            foreach (var chat in read.Chats)
            {
                AddToChat(connection, chat.Id, chat.JoinedRev - 1, 0, waits: null);
            }

            PublishChatIds(connection);
        }
    }

    private void OnRedisReconnectedCommand()
    {
        // Whatever was published while the subscription was down is in the logs: every chat catches up,
        // spread over a couple of seconds, reads bounded in number (no herd on ChatService).
        var spread = options.Value.ReconnectCatchUpSpread;
        foreach (var chatId in _chats.Keys)
        {
            RequestCatchUp(chatId, Jitter(spread));
        }

        foreach (var userId in _users.Keys)
        {
            ReadUserChats(userId, Jitter(spread));
        }
    }

    private static TimeSpan Jitter(TimeSpan spread) => spread * Random.Shared.NextDouble();

    /// <summary>
    /// Every few seconds: one request for the latest rev of every local chat. A chat further on than
    /// its stream (a publish lost in a quiet chat, with no later change to show the gap) catches up.
    /// </summary>
    private void OnReconcileDue()
    {
        if (_reconcileInFlight || _sockets.Count == 0 || _chats.Count == 0)
        {
            Later(new ReconcileDue(), options.Value.ReconcileInterval);
            return;
        }

        // A different socket's token each time: one whose token was refused cannot stop reconciliation.
        _reconcileInFlight = true;
        var token = _sockets.Keys.ElementAt(Random.Shared.Next(_sockets.Count)).AccessToken;
        var chatIds = _chats.Keys.ToList();
        Fetch(
            async cancellationToken =>
            {
                var revs = new Dictionary<Guid, long>();
                foreach (var page in chatIds.Chunk(ChatRevsRequest.MaxChatIds))
                {
                    var result = await chatService.GetRevsAsync(token, page, cancellationToken);
                    if (result.Status != ChatCallStatus.Ok)
                    {
                        return null;
                    }

                    foreach (var (chatId, rev) in result.Value!.Revs)
                    {
                        revs[chatId] = rev;
                    }
                }

                return revs;
            },
            revs => new RevsFetched(revs));
    }

    private void OnRevsFetched(RevsFetched fetched)
    {
        _reconcileInFlight = false;
        Later(new ReconcileDue(), options.Value.ReconcileInterval);
        foreach (var (chatId, rev) in fetched.Revs ?? new Dictionary<Guid, long>())
        {
            if (_chats.TryGetValue(chatId, out var chat) && rev > chat.Stream.Rev && !chat.Stream.FetchInFlight)
            {
                LogReconciled(chatId, chat.Stream.Rev, rev);
                RequestCatchUp(chatId, TimeSpan.Zero);
            }
        }
    }

    // ---- Events that are not in the log ----

    private void OnBroadcast(ChatBroadcast broadcast)
    {
        if (!_chats.TryGetValue(broadcast.ChatId, out var chat))
        {
            return;
        }

        foreach (var connection in chat.Sockets.Keys)
        {
            if (connection.UserId != broadcast.ExceptUserId)
            {
                connection.TryEnqueue(broadcast.Frame);
            }
        }
    }

    private void OnDeviceRevoked(DeviceRevoked revoked)
    {
        if (!_users.TryGetValue(revoked.UserId, out var userSockets))
        {
            return;
        }

        foreach (var connection in userSockets)
        {
            if (connection.DeviceId == revoked.DeviceId)
            {
                connection.RequestClose(CloseCodes.SessionRevoked, "session revoked");
            }
        }
    }

    private void OnPresenceChanged(PresenceChanged changed)
    {
        var told = new HashSet<ClientConnection>();
        foreach (var chatId in changed.ChatIds)
        {
            if (!_chats.TryGetValue(chatId, out var chat))
            {
                continue;
            }

            foreach (var connection in chat.Sockets.Keys)
            {
                if (connection.UserId != changed.UserId && told.Add(connection))
                {
                    connection.TryEnqueue(changed.Frame);
                }
            }
        }
    }

    // ---- I/O beside the loop ----

    private static readonly ChatCallResult<ChangeBatch> Unavailable = new(ChatCallStatus.Unavailable, null);

    /// <summary>
    /// Runs a read beside the loop (at most <see cref="MaxConcurrentFetches"/> at once) and posts its
    /// result as a command; a read that throws posts null, so no state waits for it forever.
    /// </summary>
    private void Fetch<T>(Func<CancellationToken, Task<T>> read, Func<T?, PoolCommand> toCommand)
    {
        _ = RunAsync();

        async Task RunAsync()
        {
            T? result = default;
            try
            {
                await _fetchSlots.WaitAsync(_stoppingToken);
                try
                {
                    result = await read(_stoppingToken);
                }
                finally
                {
                    _fetchSlots.Release();
                }
            }
            catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogFetchFailed(exception);
            }

            await PostAsync(toCommand(result));
        }
    }

    private void Post(PoolCommand command)
    {
        if (!_commands.Writer.TryWrite(command))
        {
            _ = PostAsync(command).AsTask();
        }
    }

    private void Later(PoolCommand command, TimeSpan delay) => _ = PostLaterAsync(command, delay);

    private async Task PostLaterAsync(PoolCommand command, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _stoppingToken);
            await PostAsync(command);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void PostWhenDone(Task task, PoolCommand command) => _ = PostWhenDoneAsync(task, command);

    private async Task PostWhenDoneAsync(Task task, PoolCommand command)
    {
        try
        {
            await task.WaitAsync(_stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception exception)
        {
            // A subscription is retried by RedisSubscriptions until it holds; catch up anyway.
            LogFetchFailed(exception);
        }

        await PostAsync(command);
    }

    private void OnRedisReconnected() => _commands.Writer.TryWrite(new RedisReconnected());

    private async Task OnChatEventAsync(ChannelMessage message)
    {
        if (reader.ReadChatEvent(message) is { } command)
        {
            await PostAsync(command);
        }
    }

    private async Task OnUserEventAsync(ChannelMessage message)
    {
        if (reader.ReadUserEvent(message) is { } command)
        {
            await PostAsync(command);
        }
    }

    private async Task OnGlobalEventAsync(ChannelMessage message)
    {
        if (reader.ReadGlobalEvent(message) is { } command)
        {
            await PostAsync(command);
        }
    }

    /// <summary>A socket's chats and its resume in flight, owned by the loop.</summary>
    private sealed class SocketEntry
    {
        public Dictionary<Guid, SocketChatState> Chats { get; } = [];

        /// <summary>The chats this socket was told it left, with the rev of that leave (at least).</summary>
        public Dictionary<Guid, long> LeftAt { get; } = [];

        public ResumeProgress? Resume { get; set; }

        /// <summary>A new socket waiting for its resume: its chats keep what arrives until it comes or the window ends.</summary>
        public bool Held { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The socket pool could not handle a {Command}; it goes on with the next")]
    private partial void LogCommandFailed(string command, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: reading its log after rev {Rev} failed ({Status}); reading again, backing off")]
    private partial void LogFillFailed(Guid chatId, long rev, ChatCallStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A read of ChatService for the socket pool failed")]
    private partial void LogFetchFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId} is in chat {ChatId} after rev {AfterRev}; stream at {StreamRev}")]
    private partial void LogSocketInChat(string connectionId, Guid chatId, long afterRev, long streamRev);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat {ChatId}: change {Rev} arrived; stream at {StreamRev}, {Waiting} waiting, {Sockets} local sockets")]
    private partial void LogChangeArrived(Guid chatId, long rev, long streamRev, int waiting, int sockets);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat {ChatId}: change {Rev} arrived but the chat has no local socket")]
    private partial void LogChangeForNoLocalChat(Guid chatId, long rev);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat {ChatId}: reading its log after rev {AfterRev}")]
    private partial void LogFillStarted(Guid chatId, long afterRev);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Chat {ChatId}: log read {Status} with {Count} changes; stream at {StreamRev}")]
    private partial void LogFillFetched(Guid chatId, ChatCallStatus status, int count, long streamRev);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId}, chat {ChatId}: catching up from the log after rev {AfterRev} (after seq {AfterSeq})")]
    private partial void LogCatchUpStarted(string connectionId, Guid chatId, long afterRev, long? afterSeq);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId}, chat {ChatId}: caught up at rev {Rev}; live from here on")]
    private partial void LogCatchUpDone(string connectionId, Guid chatId, long rev);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat {ChatId} was at rev {LocalRev} here but {Rev} in its log; catching up")]
    private partial void LogReconciled(Guid chatId, long localRev, long rev);
}
