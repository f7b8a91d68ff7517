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
/// event goes through one loop (no locks anywhere): it keeps per chat one Redis subscription
/// (reference-counted by local sockets), one gap-free stream in seq order (filling gaps from
/// history), and per socket and chat the last seq written, so each socket gets each message once,
/// in order. The loop never waits for a socket (<see cref="ClientConnection.TryEnqueue(in OutgoingFrame)"/>)
/// and never does I/O itself: fetches run beside it and report back as commands.
/// </summary>
internal sealed partial class WsPool(
    RedisSubscriptions subscriptions,
    RedisEventReader reader,
    ChatServiceClient chatService,
    PresenceTracker presence,
    IOptions<GatewayOptions> options,
    ILogger<WsPool> logger) : BackgroundService
{
    private const int MaxFailedFills = 5;

    private readonly Channel<PoolCommand> _commands = Channel.CreateBounded<PoolCommand>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait, // Redis readers slow down rather than lose events
    });

    // Owned by the loop.
    private readonly Dictionary<string, ClientConnection> _connections = [];
    private readonly Dictionary<Guid, LocalChat> _chats = [];
    private readonly Dictionary<Guid, HashSet<ClientConnection>> _users = [];
    private bool _stopping;
    private CancellationToken _stoppingToken;

    /// <summary>
    /// Adds a socket with its user's chats. The returned task completes once Redis confirmed every
    /// subscription the socket needs, so that a <c>hello</c> sent after it misses no live message.
    /// </summary>
    public async Task<Task> RegisterAsync(ClientConnection connection, IReadOnlyList<ChatSummary> chats)
    {
        var subscribed = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        await PostAsync(new RegisterSocket(connection, chats, subscribed));
        return await subscribed.Task;
    }

    public ValueTask UnregisterAsync(ClientConnection connection) => PostAsync(new UnregisterSocket(connection));

    public ValueTask ResumeAsync(ClientConnection connection, IReadOnlyDictionary<Guid, long> chats) =>
        PostAsync(new ResumeRequested(connection, chats));

    /// <summary>Closes every socket with 1012 (graceful shutdown) and refuses new ones.</summary>
    public ValueTask CloseAllAsync() => PostAsync(new CloseAllSockets());

    public ValueTask PostAsync(PoolCommand command) => _commands.Writer.WriteAsync(command, CancellationToken.None);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        subscriptions.Reconnected += OnRedisReconnected;
        _ = subscriptions.SubscribeAsync(Channels.Revocations, OnGlobalEventAsync);
        _ = subscriptions.SubscribeAsync(Channels.Presence, OnGlobalEventAsync);
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
            case ChatMessageArrived arrived:
                OnMessage(arrived);
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
            case UserLeftChat left:
                OnUserLeft(left);
                break;
            case DeviceRevoked revoked:
                OnDeviceRevoked(revoked);
                break;
            case PresenceChanged changed:
                OnPresenceChanged(changed);
                break;
            case ChatSubscribed subscribed:
                RequestCatchUp(subscribed.ChatId);
                break;
            case RedisReconnected:
                foreach (var chatId in _chats.Keys)
                {
                    RequestCatchUp(chatId);
                }

                break;
            case FillDue due:
                OnFillDue(due.ChatId);
                break;
            case FillFetched fetched:
                OnFillFetched(fetched);
                break;
            case ResumeRequested resume:
                OnResume(resume);
                break;
            case ResumePage page:
                OnResumePage(page);
                break;
            case ResumeChatDone done:
                OnResumeChatDone(done);
                break;
            case CloseAllSockets:
                _stopping = true;
                foreach (var connection in _connections.Values)
                {
                    connection.RequestClose(CloseCodes.ServiceRestart, "server restarting");
                }

                break;
        }
    }

    private void OnRegister(RegisterSocket register)
    {
        var connection = register.Connection;
        if (_stopping)
        {
            connection.RequestClose(CloseCodes.ServiceRestart, "server restarting");
            register.Subscribed.TrySetResult(Task.CompletedTask);
            return;
        }

        _connections[connection.Id] = connection;
        GatewayTelemetry.OpenSockets.Add(1);
        var waits = new List<Task>();
        foreach (var chat in register.Chats)
        {
            AddToChat(connection, chat.Id, chat.LastSeq, waits);
        }

        connection.PublishChatIds();
        if (!_users.TryGetValue(connection.UserId, out var userSockets))
        {
            _users[connection.UserId] = userSockets = [];
            waits.Add(subscriptions.SubscribeAsync(Channels.User(connection.UserId), OnUserEventAsync));
            presence.UserConnected(connection.UserId, connection.ChatIds);
        }

        userSockets.Add(connection);
        register.Subscribed.TrySetResult(Task.WhenAll(waits));
    }

    private void OnUnregister(ClientConnection connection)
    {
        if (!_connections.Remove(connection.Id))
        {
            return;
        }

        GatewayTelemetry.OpenSockets.Add(-1);
        foreach (var chatId in connection.ChatStates.Keys.ToList())
        {
            RemoveFromChat(connection, chatId);
        }

        if (_users.TryGetValue(connection.UserId, out var userSockets) && userSockets.Remove(connection) && userSockets.Count == 0)
        {
            _users.Remove(connection.UserId);
            subscriptions.Unsubscribe(Channels.User(connection.UserId));
            presence.UserDisconnected(connection.UserId, connection.ChatIds);
        }
    }

    private void AddToChat(ClientConnection connection, Guid chatId, long lastSeq, List<Task>? waits)
    {
        if (!connection.ChatStates.TryAdd(chatId, new SocketChatState()))
        {
            return;
        }

        if (!_chats.TryGetValue(chatId, out var chat))
        {
            _chats[chatId] = chat = new LocalChat(chatId, lastSeq);
            var subscribed = subscriptions.SubscribeAsync(Channels.Chat(chatId), OnChatEventAsync);
            waits?.Add(subscribed);
            _ = CatchUpWhenSubscribedAsync(chatId, subscribed);
        }

        chat.Sockets.Add(connection);
    }

    private void RemoveFromChat(ClientConnection connection, Guid chatId)
    {
        connection.ChatStates.Remove(chatId);
        if (_chats.TryGetValue(chatId, out var chat) && chat.Sockets.Remove(connection) && chat.Sockets.Count == 0)
        {
            _chats.Remove(chatId);
            subscriptions.Unsubscribe(Channels.Chat(chatId));
        }
    }

    private async Task CatchUpWhenSubscribedAsync(Guid chatId, Task subscribed)
    {
        await subscribed;
        // Messages committed between the user's chat list and the subscription would otherwise
        // stay unseen until the chat's next message shows the gap.
        await PostAsync(new ChatSubscribed(chatId));
    }

    private void OnMessage(ChatMessageArrived arrived)
    {
        if (!_chats.TryGetValue(arrived.ChatId, out var chat) || arrived.Message.Seq <= chat.LastSeq)
        {
            return; // no local socket in this chat any more, or a duplicate
        }

        chat.Pending.TryAdd(arrived.Message.Seq, arrived.Message);
        DeliverInOrder(chat);
        if (chat.Pending.Count > 0)
        {
            ScheduleFill(chat);
        }
    }

    /// <summary>Passes on every pending message that continues the chat's stream without a gap.</summary>
    private static void DeliverInOrder(LocalChat chat)
    {
        while (chat.Pending.Count > 0)
        {
            var (seq, message) = chat.Pending.First();
            if (seq <= chat.LastSeq)
            {
                chat.Pending.Remove(seq);
                continue;
            }

            if (seq != chat.LastSeq + 1)
            {
                return;
            }

            chat.Pending.Remove(seq);
            chat.LastSeq = seq;
            Deliver(chat, message);
        }
    }

    private static void Deliver(LocalChat chat, PendingMessage message)
    {
        var frame = new OutgoingFrame(message.Frame, message.SentAt, message.Trace);
        foreach (var connection in chat.Sockets)
        {
            var state = connection.ChatStates[chat.Id];
            if (state.HeldDuringResume is { } held)
            {
                held.Add(message);
            }
            else if (message.Seq > state.LastSent && connection.TryEnqueue(frame))
            {
                state.LastSent = message.Seq;
            }
        }
    }

    private void RequestCatchUp(Guid chatId)
    {
        if (_chats.TryGetValue(chatId, out var chat))
        {
            chat.CatchUpRequested = true;
            ScheduleFill(chat);
        }
    }

    private void ScheduleFill(LocalChat chat)
    {
        if (chat.FillScheduled || chat.FillInFlight)
        {
            return;
        }

        chat.FillScheduled = true;
        _ = PostLaterAsync(new FillDue(chat.Id), options.Value.GapFillDelay * Math.Pow(2, chat.FailedFills));
    }

    private void OnFillDue(Guid chatId)
    {
        if (!_chats.TryGetValue(chatId, out var chat))
        {
            return;
        }

        chat.FillScheduled = false;
        if (chat.Pending.Count == 0 && !chat.CatchUpRequested)
        {
            return; // the gap closed by itself
        }

        chat.FillInFlight = true;
        chat.CatchUpRequested = false;
        // Any local member may read the chat's history; spread the fetches over their tokens.
        var token = chat.Sockets.ElementAt(Random.Shared.Next(chat.Sockets.Count)).AccessToken;
        _ = FetchGapAsync(chatId, chat.LastSeq, token);
    }

    private async Task FetchGapAsync(Guid chatId, long afterSeq, string accessToken)
    {
        var page = await chatService.GetMessagesAfterAsync(accessToken, chatId, afterSeq, _stoppingToken);
        var messages = page.Status == ChatCallStatus.Ok ? page.Value!.Messages.Select(RedisEventReader.ToPending).ToList() : null;
        await PostAsync(new FillFetched(chatId, messages, page.Value?.HasMore ?? false));
    }

    private void OnFillFetched(FillFetched fetched)
    {
        if (!_chats.TryGetValue(fetched.ChatId, out var chat))
        {
            return;
        }

        chat.FillInFlight = false;
        if (fetched.Messages is null)
        {
            chat.FailedFills++;
            if (chat.FailedFills >= MaxFailedFills && chat.Pending.Count > 0)
            {
                // History stays unreachable: deliver what we have rather than hold the chat forever.
                LogGapSkipped(chat.Id, chat.LastSeq, chat.Pending.First().Key);
                chat.LastSeq = chat.Pending.First().Key - 1;
                chat.FailedFills = 0;
                DeliverInOrder(chat);
            }
            else
            {
                chat.CatchUpRequested |= chat.Pending.Count == 0;
            }
        }
        else
        {
            chat.FailedFills = 0;
            if (fetched.Messages.Count > 0)
            {
                GatewayTelemetry.GapFills.Add(1);
            }

            foreach (var message in fetched.Messages)
            {
                if (message.Seq > chat.LastSeq)
                {
                    chat.Pending.TryAdd(message.Seq, message);
                }
            }

            DeliverInOrder(chat);
            chat.CatchUpRequested |= fetched.HasMore;
        }

        if (chat.Pending.Count > 0 || chat.CatchUpRequested)
        {
            ScheduleFill(chat);
        }
    }

    private void OnBroadcast(ChatBroadcast broadcast)
    {
        if (!_chats.TryGetValue(broadcast.ChatId, out var chat))
        {
            return;
        }

        foreach (var connection in chat.Sockets)
        {
            if (connection.UserId != broadcast.ExceptUserId)
            {
                connection.TryEnqueue(broadcast.Frame);
            }
        }
    }

    private void OnUserJoined(UserJoinedChat joined)
    {
        if (!_users.TryGetValue(joined.UserId, out var userSockets))
        {
            return;
        }

        var frame = ServerFrames.MemberJoined(joined.ChatId, joined.UserId);
        foreach (var connection in userSockets)
        {
            AddToChat(connection, joined.ChatId, joined.LastSeq, waits: null);
            connection.PublishChatIds();
            connection.TryEnqueue(frame);
        }
    }

    private void OnUserLeft(UserLeftChat left)
    {
        if (!_users.TryGetValue(left.UserId, out var userSockets))
        {
            return;
        }

        var frame = ServerFrames.MemberLeft(left.ChatId, left.UserId);
        foreach (var connection in userSockets)
        {
            RemoveFromChat(connection, left.ChatId);
            connection.PublishChatIds();
            connection.TryEnqueue(frame);
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

            foreach (var connection in chat.Sockets)
            {
                if (connection.UserId != changed.UserId && told.Add(connection))
                {
                    connection.TryEnqueue(changed.Frame);
                }
            }
        }
    }

    private void OnResume(ResumeRequested resume)
    {
        var connection = resume.Connection;
        if (!_connections.ContainsKey(connection.Id))
        {
            return;
        }

        var toReplay = new List<KeyValuePair<Guid, long>>();
        foreach (var (chatId, lastSeen) in resume.Chats)
        {
            if (!connection.ChatStates.TryGetValue(chatId, out var state))
            {
                connection.TryEnqueue(ServerFrames.Error(ErrorCodes.Forbidden, "You are not a member of this chat.", chatId.ToString("D")));
                continue;
            }

            state.HeldDuringResume ??= [];
            toReplay.Add(new(chatId, lastSeen));
        }

        var progress = new ResumeProgress(toReplay.Count);
        if (toReplay.Count == 0)
        {
            connection.TryEnqueue(ServerFrames.Resumed(progress.LastSeqs));
            return;
        }

        _ = ReplayAsync(connection, progress, toReplay);
    }

    /// <summary>Reads each chat's history after the client's last seen seq, page by page, into the loop.</summary>
    private async Task ReplayAsync(ClientConnection connection, ResumeProgress progress, List<KeyValuePair<Guid, long>> chats)
    {
        foreach (var (chatId, lastSeen) in chats)
        {
            var afterSeq = lastSeen;
            var status = ChatCallStatus.Ok;
            while (true)
            {
                var page = await chatService.GetMessagesAfterAsync(connection.AccessToken, chatId, afterSeq, _stoppingToken);
                status = page.Status;
                if (status != ChatCallStatus.Ok)
                {
                    break;
                }

                var messages = page.Value!.Messages.Select(RedisEventReader.ToPending).ToList();
                if (messages.Count > 0)
                {
                    await PostAsync(new ResumePage(connection, chatId, messages));
                    afterSeq = messages[^1].Seq;
                }

                if (!page.Value.HasMore || messages.Count == 0)
                {
                    break;
                }
            }

            await PostAsync(new ResumeChatDone(connection, progress, chatId, lastSeen, status));
        }
    }

    private static void OnResumePage(ResumePage page)
    {
        if (!page.Connection.ChatStates.TryGetValue(page.ChatId, out var state))
        {
            return;
        }

        foreach (var message in page.Messages)
        {
            if (message.Seq > state.LastSent && page.Connection.TryEnqueue(new OutgoingFrame(message.Frame, Trace: message.Trace)))
            {
                state.LastSent = message.Seq;
            }
        }
    }

    private static void OnResumeChatDone(ResumeChatDone done)
    {
        var connection = done.Connection;
        if (connection.ChatStates.TryGetValue(done.ChatId, out var state) && state.HeldDuringResume is { } held)
        {
            state.HeldDuringResume = null;
            foreach (var message in held)
            {
                if (message.Seq > state.LastSent && connection.TryEnqueue(new OutgoingFrame(message.Frame, message.SentAt, message.Trace)))
                {
                    state.LastSent = message.Seq;
                }
            }
        }

        if (done.Status == ChatCallStatus.Ok)
        {
            done.Progress.LastSeqs[done.ChatId] = Math.Max(done.LastSeen, state?.LastSent ?? 0);
        }
        else
        {
            var (code, message) = done.Status switch
            {
                ChatCallStatus.NotFound => (ErrorCodes.NotFound, "The chat does not exist or you are not a member."),
                ChatCallStatus.Forbidden or ChatCallStatus.Unauthorized => (ErrorCodes.Forbidden, "You may not read this chat."),
                _ => (ErrorCodes.Unavailable, "History is unavailable right now; resume this chat again."),
            };
            connection.TryEnqueue(ServerFrames.Error(code, message, done.ChatId.ToString("D")));
        }

        if (--done.Progress.Remaining == 0)
        {
            connection.TryEnqueue(ServerFrames.Resumed(done.Progress.LastSeqs));
        }
    }

    private async Task PostLaterAsync(PoolCommand command, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stoppingToken);
            await PostAsync(command);
        }
        catch (OperationCanceledException)
        {
        }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "The socket pool could not handle a {Command}; it goes on with the next")]
    private partial void LogCommandFailed(string command, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId}: history stayed unavailable; delivering on from seq {NextSeq} after {LastSeq}")]
    private partial void LogGapSkipped(Guid chatId, long lastSeq, long nextSeq);
}
