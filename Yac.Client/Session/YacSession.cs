using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Yac.Client.Session;

namespace Yac.Client;

/// <summary>
/// A live connection to YAC that outlives its sockets. It connects <c>/ws</c> (any replica behind
/// the gateway's address), says <c>resume</c> with each chat's last delivered seq (and rev, once the
/// server sends revs), pings, swaps its access token before it expires, and reconnects with
/// jittered exponential backoff whenever a socket ends in a way that allows it (1012, 1013, 1006,
/// network loss, 4002 after a refresh). Only 4001 (this device logged out), a refused token renewal
/// or <see cref="DisposeAsync"/> end it.
/// <para>
/// <b>Events</b> (<see cref="Events"/>, <see cref="ReadAllAsync"/>): every change of every tracked
/// chat exactly once and in order, across any number of reconnects: duplicates of replays are
/// dropped by rev (or seq), and a gap (a live frame that overtook a replay) is read over REST
/// before anything after it. <see cref="YacReadEvent"/>, <see cref="YacTypingEvent"/> and
/// <see cref="YacPresenceEvent"/> are live only.
/// </para>
/// <para>
/// <b>Backpressure</b>: the buffer holds <see cref="YacSessionOptions.EventBufferCapacity"/> events.
/// When it is full the session stops reading its socket until the application reads; the server
/// buffers meanwhile and, if its queue overflows, closes with 1013, after which the session
/// reconnects and resumes. Memory stays bounded and nothing is lost. Acks travel on the same
/// socket: read the events, or sends wait too.
/// </para>
/// </summary>
public sealed class YacSession : IAsyncDisposable
{
    private const int MaxTextLength = 4000;
    private const int MaxServerFrameBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(2);

    private readonly YacClient _client;
    private readonly YacSessionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<YacEvent> _events;
    private readonly ChatSequencer _sequencer = new();
    private readonly SemaphoreSlim _delivery = new(1, 1);
    private readonly Lock _outboxLock = new();
    private readonly Outbox _outbox;
    private readonly SemaphoreSlim _outboxRoom;
    private readonly SemaphoreSlim _pump = new(1, 1);
    private readonly ReconnectBackoff _backoff;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<YacSessionEndReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstHello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _fills = [];
    private readonly ITimer _retryTimer;
    private Task? _supervisor;
    private volatile Connection? _connection;
    private volatile HelloFrame? _hello;
    private volatile bool _disposing;
    private YacSessionEndReason? _endReason;
    private int _connections;
    private int _tokenSwaps;
    private int _resentSends;
    private int _gapFills;

    internal YacSession(YacClient client, YacSessionOptions options, IReadOnlyDictionary<Guid, YacChatPosition> positions)
    {
        _client = client;
        _options = options;
        _logger = client.LoggerFactory.CreateLogger<YacSession>();
        _time = client.Options.TimeProvider;
        _events = Channel.CreateBounded<YacEvent>(new BoundedChannelOptions(options.EventBufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = false,
        });
        _backoff = new ReconnectBackoff(options.InitialReconnectDelay, options.MaxReconnectDelay);
        _outbox = new Outbox(options.OutboxCapacity, options.SendWindow, options.MaxSendRetries, new ReconnectBackoff(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10)));
        _outboxRoom = new SemaphoreSlim(options.OutboxCapacity, options.OutboxCapacity);
        _retryTimer = _time.CreateTimer(static state => ((YacSession)state!).OnRetryDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var (chatId, position) in positions)
        {
            _sequencer.Track(chatId, position.Seq, position.Rev);
        }
    }

    /// <summary>The events, in order (see the class remarks); completes when the session ends.</summary>
    public ChannelReader<YacEvent> Events => _events.Reader;

    /// <summary>The events as an async stream; ends when the session ends.</summary>
    public IAsyncEnumerable<YacEvent> ReadAllAsync(CancellationToken cancellationToken = default) => _events.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Completes with the reason when the session is over.</summary>
    public Task<YacSessionEndReason> Completion => _ended.Task;

    /// <summary>Whether a socket is open and said <c>hello</c>.</summary>
    public bool IsConnected => _connection is not null;

    /// <summary>The user (from the latest <c>hello</c>).</summary>
    public Guid UserId => _hello?.UserId ?? Guid.Empty;

    /// <summary>The device session (from the latest <c>hello</c>).</summary>
    public Guid DeviceId => _hello?.DeviceId ?? Guid.Empty;

    /// <summary>The replica that holds the current (or last) socket.</summary>
    public string? GatewayId => _hello?.GatewayId;

    /// <summary>How many sockets said <c>hello</c> (1 + reconnects).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>How often the access token was swapped on a live socket (<c>authOk</c>).</summary>
    public int TokenSwaps => Volatile.Read(ref _tokenSwaps);

    /// <summary>How often a send was put on a socket again.</summary>
    public int ResentSends => Volatile.Read(ref _resentSends);

    /// <summary>How many gaps were read over REST.</summary>
    public int GapFills => Volatile.Read(ref _gapFills);

    /// <summary>
    /// How far each tracked chat's stream has been put into the event buffer (the application may
    /// not have read it all yet: persist positions from the events you processed instead).
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, YacChatPosition>> GetPositionsAsync(CancellationToken cancellationToken = default)
    {
        await _delivery.WaitAsync(cancellationToken);
        try
        {
            return _sequencer.Positions;
        }
        finally
        {
            _delivery.Release();
        }
    }

    /// <summary>
    /// Sends a message with a new clientMsgId and completes with its ack (it is then durably stored).
    /// Until the ack it stays in the outbox and is sent again, with the same clientMsgId, after every
    /// reconnect and after an <c>unavailable</c> or <c>rate_limited</c> answer: it is stored once.
    /// Waits for room while the outbox is full. Cancelling stops the waiting only: a send that was
    /// accepted stays in the outbox. Throws <see cref="YacSendException"/> for a final refusal and
    /// <see cref="YacSessionEndedException"/> if the session ends first.
    /// </summary>
    public Task<YacSendResult> SendAsync(Guid chatId, string text, CancellationToken cancellationToken = default) =>
        SendAsync(chatId, text, YacClient.NewClientMsgId(), cancellationToken);

    /// <summary>As <see cref="SendAsync(Guid, string, CancellationToken)"/>, with your own clientMsgId (1-64 characters).</summary>
    public async Task<YacSendResult> SendAsync(Guid chatId, string text, string clientMsgId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(text.Length, MaxTextLength, nameof(text));
        ArgumentException.ThrowIfNullOrEmpty(clientMsgId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(clientMsgId.Length, 64, nameof(clientMsgId));
        ThrowIfEnded();

        var send = new PendingSend(chatId, clientMsgId, text)
        {
            Completion = new TaskCompletionSource<YacSendResult>(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token))
        {
            try
            {
                await _outboxRoom.WaitAsync(waiting.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new YacSessionEndedException(_endReason ?? YacSessionEndReason.Disposed);
            }
        }

        await EnqueueAsync(send);
        return await send.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Moves your read position to <paramref name="seq"/> (on the socket when connected, else over REST).</summary>
    public async Task MarkReadAsync(Guid chatId, long seq, CancellationToken cancellationToken = default)
    {
        if (_connection is { } connection
            && await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(new OutgoingRead(chatId.ToString("D"), seq), YacJson.Wire.OutgoingRead)))
        {
            return;
        }

        await _client.MarkReadAsync(chatId, seq, cancellationToken);
    }

    /// <summary>Tells the chat's other members you are typing; false when not connected (typing is not kept).</summary>
    public async Task<bool> SendTypingAsync(Guid chatId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _connection is { } connection
            && await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(new OutgoingTyping(chatId.ToString("D")), YacJson.Wire.OutgoingTyping));
    }

    /// <summary>Closes the socket (1000) and ends the session; unacknowledged sends fail with <see cref="YacSessionEndedException"/> (a store keeps them).</summary>
    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        if (!_ended.Task.IsCompleted && _connection is { } connection)
        {
            using var closing = new CancellationTokenSource(s_closeTimeout);
            try
            {
                await connection.SendLock.WaitAsync(closing.Token);
                try
                {
                    await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", closing.Token);
                }
                finally
                {
                    connection.SendLock.Release();
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // It was going anyway.
            }
        }

        End(YacSessionEndReason.Disposed);
        if (_supervisor is not null)
        {
            await _supervisor;
        }

        Task[] fills;
        lock (_fills)
        {
            fills = [.. _fills];
        }

        await Task.WhenAll(fills);
        await _retryTimer.DisposeAsync();
        _lifetime.Dispose();
    }

    // --- Start and the connection supervisor --------------------------------------------------

    internal async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.OutboxStore is { } store)
        {
            foreach (var saved in await store.LoadAsync(cancellationToken))
            {
                await _outboxRoom.WaitAsync(cancellationToken);
                lock (_outboxLock)
                {
                    if (!_outbox.TryAdd(new PendingSend(saved.ChatId, saved.ClientMsgId, saved.Text)))
                    {
                        _outboxRoom.Release();
                    }
                }
            }
        }

        _supervisor = SuperviseAsync();
        var first = await Task.WhenAny(_firstHello.Task, _ended.Task).WaitAsync(cancellationToken);
        if (first == _ended.Task)
        {
            throw new YacSessionEndedException(await _ended.Task);
        }
    }

    private async Task SuperviseAsync()
    {
        // Off the caller's synchronization context, and never throws: every ending goes through End.
        await Task.Yield();
        var lifetime = _lifetime.Token;
        var attempt = 0;
        while (!lifetime.IsCancellationRequested)
        {
            int? closeStatus = null;
            TimeSpan delay;
            try
            {
                var (connection, renewed, failure) = await OpenAsync(attempt, lifetime);
                if (connection is null)
                {
                    delay = renewed ? TimeSpan.Zero : _backoff.Delay(attempt, Random.Shared.NextDouble());
                    attempt++;
                    if (failure is not null)
                    {
                        Log.ConnectFailed(_logger, failure, (long)delay.TotalMilliseconds);
                    }
                }
                else
                {
                    attempt = 0;
                    closeStatus = await RunConnectionAsync(connection);
                    if (_disposing)
                    {
                        return;
                    }
                    switch (closeStatus)
                    {
                        case CloseCodes.SessionRevoked:
                            End(YacSessionEndReason.Revoked);
                            return;
                        case CloseCodes.TokenExpired:
                            await _client.Tokens.RenewAccessTokenAsync(connection.AccessToken, lifetime);
                            delay = TimeSpan.Zero;
                            break;
                        case CloseCodes.ServerRestarting:
                            // Another replica is up: come back soon, but not every client at the same instant.
                            delay = TimeSpan.FromMilliseconds(100 + Random.Shared.Next(900));
                            break;
                        default:
                            delay = _backoff.Delay(attempt++, Random.Shared.NextDouble());
                            break;
                    }

                    Log.Reconnecting(_logger, closeStatus.Value, (long)delay.TotalMilliseconds);
                }

                await PublishAsync(new YacConnectionEvent(YacConnectionState.Reconnecting, null, closeStatus, delay));
            }
            catch (YacUnauthorizedException)
            {
                End(YacSessionEndReason.Unauthorized);
                return;
            }
            catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // Identity unreachable for a token, say: try again later.
                delay = _backoff.Delay(attempt++, Random.Shared.NextDouble());
                Log.ConnectFailed(_logger, exception, (long)delay.TotalMilliseconds);
            }

            try
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, lifetime);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Opens a socket and reads its hello: the connection, or why not (renewed: a 401 was answered with a fresh token).</summary>
    private async Task<(Connection? Connection, bool Renewed, Exception? Failure)> OpenAsync(int attempt, CancellationToken lifetime)
    {
        var accessToken = await _client.Tokens.GetAccessTokenAsync(lifetime);
        var url = SocketUrl(_client.BaseAddress);
        Log.Connecting(_logger, url, attempt);
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + accessToken.Value);
        socket.Options.CollectHttpResponseDetails = true;
        using var activity = YacClientTelemetry.Source.StartActivity("yac.connect", ActivityKind.Client);
        activity?.SetTag("yac.attempt", attempt);
        var connectionLifetime = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(lifetime))
            {
                timeout.CancelAfter(s_connectTimeout);
                await socket.ConnectAsync(url, timeout.Token);
                var buffer = new FrameBuffer();
                var first = await ReceiveFrameAsync(socket, buffer, timeout.Token);
                if (first is null)
                {
                    throw new WebSocketException($"The socket closed ({(int?)socket.CloseStatus}) before hello.");
                }

                using var document = JsonDocument.Parse(first.Value);
                if (document.RootElement.GetProperty("type").GetString() != "hello")
                {
                    throw new WebSocketException("The first frame was not hello.");
                }

                var hello = document.RootElement.Deserialize(YacJson.Wire.HelloFrame)!;
                activity?.SetTag("yac.gateway_id", hello.GatewayId);
                return (new Connection(socket, hello, accessToken, buffer, connectionLifetime, _time), false, null);
            }
        }
        catch (WebSocketException) when (socket.HttpStatusCode == HttpStatusCode.Unauthorized)
        {
            Dispose(socket, connectionLifetime);
            // Throws YacUnauthorizedException when the device session is over: the supervisor ends.
            await _client.Tokens.RenewAccessTokenAsync(accessToken, lifetime);
            return (null, true, null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !lifetime.IsCancellationRequested)
        {
            Dispose(socket, connectionLifetime);
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            return (null, false, exception);
        }
        catch
        {
            Dispose(socket, connectionLifetime);
            throw;
        }

        static void Dispose(ClientWebSocket socket, CancellationTokenSource source)
        {
            socket.Dispose();
            source.Dispose();
        }
    }

    /// <summary>Runs one socket from its hello to its end; returns its close status (1006: it broke without one).</summary>
    private async Task<int> RunConnectionAsync(Connection connection)
    {
        using (connection)
        {
            _hello = connection.Hello;
            var count = Interlocked.Increment(ref _connections);
            if (count > 1)
            {
                YacClientTelemetry.Reconnects.Add(1);
            }

            Task heartbeat = Task.CompletedTask, renewal = Task.CompletedTask;
            try
            {
                var resumed = await SendResumeAsync(connection);
                Log.Connected(_logger, connection.Hello.GatewayId, connection.Hello.ConnectionId, resumed);
                _connection = connection;
                _firstHello.TrySetResult();
                await PublishAsync(new YacConnectionEvent(YacConnectionState.Connected, connection.Hello.GatewayId, null, null));
                await PumpOutboxAsync(connection);
                heartbeat = HeartbeatAsync(connection);
                renewal = RenewTokenLoopAsync(connection);
                return await ReceiveLoopAsync(connection);
            }
            finally
            {
                _connection = null;
                await connection.CancelAsync();
                // Nothing is in flight any more: the next socket sends the outbox again, in order.
                await _pump.WaitAsync(CancellationToken.None);
                try
                {
                    lock (_outboxLock)
                    {
                        _outbox.Disconnected();
                    }
                }
                finally
                {
                    _pump.Release();
                }

                await Task.WhenAll(heartbeat, renewal);
            }
        }
    }

    private async Task<int> SendResumeAsync(Connection connection)
    {
        IReadOnlyDictionary<Guid, YacChatPosition> positions;
        await _delivery.WaitAsync(_lifetime.Token);
        try
        {
            positions = _sequencer.Positions;
        }
        finally
        {
            _delivery.Release();
        }

        var chats = positions.ToDictionary(chat => chat.Key.ToString("D"), chat => chat.Value.Seq);
        var revs = positions.Where(chat => chat.Value.Rev is not null).ToDictionary(chat => chat.Key.ToString("D"), chat => chat.Value.Rev!.Value);
        var frame = new OutgoingResume(chats, revs.Count == 0 ? null : revs);
        await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(frame, YacJson.Wire.OutgoingResume));
        return chats.Count;
    }

    // --- Receiving ---------------------------------------------------------------------------

    private async Task<int> ReceiveLoopAsync(Connection connection)
    {
        while (true)
        {
            ReadOnlyMemory<byte>? frame;
            try
            {
                frame = await ReceiveFrameAsync(connection.Socket, connection.Buffer, connection.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or InvalidDataException)
            {
                _lifetime.Token.ThrowIfCancellationRequested();
                return (int?)connection.Socket.CloseStatus ?? CloseCodes.Abnormal;
            }

            if (frame is null)
            {
                await AnswerCloseAsync(connection);
                return (int?)connection.Socket.CloseStatus ?? CloseCodes.Abnormal;
            }

            connection.LastFrameAt = _time.GetTimestamp();
            connection.Handling = true;
            try
            {
                await HandleFrameAsync(connection, frame.Value);
            }
            finally
            {
                connection.Handling = false;
                connection.LastFrameAt = _time.GetTimestamp();
            }
        }
    }

    /// <summary>One whole text frame (null: the server closed); binary frames are skipped.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReceiveFrameAsync(ClientWebSocket socket, FrameBuffer buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            buffer.Reset();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                buffer.Advance(result.Count);
                if (buffer.Length > MaxServerFrameBytes)
                {
                    throw new InvalidDataException("A frame from the server is larger than 4 MiB.");
                }
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Text)
            {
                return buffer.Written;
            }
        }
    }

    private static async Task AnswerCloseAsync(Connection connection)
    {
        using var timeout = new CancellationTokenSource(s_closeTimeout);
        try
        {
            await connection.SendLock.WaitAsync(timeout.Token);
            try
            {
                await connection.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            finally
            {
                connection.SendLock.Release();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The server is gone already: nothing to answer.
        }
    }

    private async Task HandleFrameAsync(Connection connection, ReadOnlyMemory<byte> bytes)
    {
        var type = "?";
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            type = root.TryGetProperty("type", out var typeProperty) ? typeProperty.GetString() ?? "?" : "?";
            switch (type)
            {
                case "ack":
                    await OnAckAsync(connection, root.Deserialize(YacJson.Wire.AckFrame)!);
                    return;
                case "error":
                    await OnErrorAsync(connection, root.Deserialize(YacJson.Wire.ErrorFrame)!);
                    return;
                case "resumed":
                    await OnResumedAsync(root.Deserialize(YacJson.Wire.ResumedFrame)!);
                    return;
                case "authOk":
                    Interlocked.Increment(ref _tokenSwaps);
                    Log.TokenSwapped(_logger);
                    return;
                case "pong":
                case "hello":
                    return;
                case "read":
                    var read = root.Deserialize(YacJson.Wire.ReadFrame)!;
                    await PublishAsync(new YacReadEvent(read.ChatId, read.UserId, read.Seq));
                    return;
                case "typing":
                    var typing = root.Deserialize(YacJson.Wire.TypingFrame)!;
                    await PublishAsync(new YacTypingEvent(typing.ChatId, typing.UserId));
                    return;
                case "presence":
                    var presence = root.Deserialize(YacJson.Wire.PresenceFrame)!;
                    await PublishAsync(new YacPresenceEvent(presence.UserId, presence.Online));
                    return;
            }

            if (ParseChange(type, root) is { } change)
            {
                await DeliverChangeAsync(change, connection.Hello.UserId);
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A frame this client cannot read must not end the session.
            Log.BadFrame(_logger, exception, type);
        }
    }

    /// <summary>A change frame (socket or <c>/changes</c>) as its event; null for other types (newer ones are ignored).</summary>
    internal static YacChatChangeEvent? ParseChange(string type, JsonElement frame)
    {
        switch (type)
        {
            case "message":
                var message = frame.Deserialize(YacJson.Wire.MessageFrame)!;
                return new YacMessageEvent(message.ToMessage(), message.Rev);
            case "memberJoined":
                var joined = frame.Deserialize(YacJson.Wire.MemberFrame)!;
                return new YacMemberJoinedEvent(joined.ChatId, joined.UserId, joined.Rev);
            case "memberLeft":
                var left = frame.Deserialize(YacJson.Wire.MemberFrame)!;
                return new YacMemberLeftEvent(left.ChatId, left.UserId, left.Rev);
            case "messageUpdated":
                var updated = frame.Deserialize(YacJson.Wire.MessageUpdatedFrame)!;
                return new YacMessageUpdatedEvent(updated.ChatId, updated.Rev, updated.Message);
            case "chatUpdated":
                var chat = frame.Deserialize(YacJson.Wire.ChatUpdatedFrame)!;
                return new YacChatUpdatedEvent(chat.ChatId, chat.Rev, chat.Chat);
            default:
                return null;
        }
    }

    // --- Delivery to the application -----------------------------------------------------------

    private async Task DeliverChangeAsync(YacChatChangeEvent change, Guid self)
    {
        await _delivery.WaitAsync(_lifetime.Token);
        try
        {
            var duplicatesBefore = _sequencer.Duplicates;
            var result = _sequencer.Offer(change);
            if (_sequencer.Duplicates > duplicatesBefore)
            {
                YacClientTelemetry.DuplicatesDropped.Add(_sequencer.Duplicates - duplicatesBefore);
            }

            await WriteAsync(result.Deliver, self);
            if (result.Fetch is { } fetch)
            {
                StartFill(fetch);
            }
        }
        finally
        {
            _delivery.Release();
        }
    }

    /// <summary>Writes changes to the buffer (the delivery lock is held), forgetting the chats the user left.</summary>
    private async Task WriteAsync(IReadOnlyList<YacChatChangeEvent> changes, Guid self)
    {
        foreach (var change in changes)
        {
            await WriteEventAsync(change);
            if (change is YacMemberLeftEvent left && left.UserId == self)
            {
                _sequencer.Untrack(left.ChatId);
            }
        }
    }

    private async Task PublishAsync(YacEvent @event)
    {
        await _delivery.WaitAsync(_lifetime.Token);
        try
        {
            await WriteEventAsync(@event);
        }
        finally
        {
            _delivery.Release();
        }
    }

    private async ValueTask WriteEventAsync(YacEvent @event)
    {
        try
        {
            await _events.Writer.WriteAsync(@event, _lifetime.Token);
        }
        catch (ChannelClosedException)
        {
            throw new OperationCanceledException(_lifetime.Token);
        }
    }

    private async Task OnResumedAsync(ResumedFrame resumed)
    {
        var chatIds = (resumed.Chats?.Keys ?? Enumerable.Empty<Guid>()).Union(resumed.Revs?.Keys ?? Enumerable.Empty<Guid>()).ToList();
        await _delivery.WaitAsync(_lifetime.Token);
        try
        {
            foreach (var chatId in chatIds)
            {
                long? seq = resumed.Chats?.TryGetValue(chatId, out var lastSeq) == true ? lastSeq : null;
                long? rev = resumed.Revs?.TryGetValue(chatId, out var lastRev) == true ? lastRev : null;
                if (_sequencer.CatchUp(chatId, seq, rev) is { } fetch)
                {
                    StartFill(fetch);
                }
            }
        }
        finally
        {
            _delivery.Release();
        }
    }

    // --- Gap fills over REST -----------------------------------------------------------------

    private void StartFill(FetchRequest request)
    {
        lock (_fills)
        {
            _fills.RemoveAll(fill => fill.IsCompleted);
            if (!_lifetime.IsCancellationRequested)
            {
                _fills.Add(FillAsync(request));
            }
        }
    }

    /// <summary>Reads a chat's missing range page by page into the sequencer; never throws.</summary>
    private async Task FillAsync(FetchRequest request)
    {
        await Task.Yield();
        var lifetime = _lifetime.Token;
        var chatId = request.ChatId;
        Interlocked.Increment(ref _gapFills);
        YacClientTelemetry.GapFills.Add(1);
        Log.GapFill(_logger, chatId, request.After, request.ByRev);
        using var activity = YacClientTelemetry.Source.StartActivity("yac.gap_fill");
        activity?.SetTag("yac.chat_id", chatId.ToString("D"));
        var succeeded = false;
        var untrack = false;
        try
        {
            var cursor = request.After;
            while (true)
            {
                List<YacChatChangeEvent> page;
                bool hasMore;
                if (request.ByRev)
                {
                    var changes = await _client.GetChangesAsync(chatId, cursor, 500, lifetime);
                    page = [.. changes.Changes.Select(change => ParseChange(change.GetProperty("type").GetString() ?? "", change)).OfType<YacChatChangeEvent>()];
                    hasMore = changes.HasMore && page.Count > 0 && page[^1].Rev is not null
                        && (request.Before is not { } beforeRev || page[^1].Rev!.Value < beforeRev - 1);
                    cursor = page.Count > 0 ? page[^1].Rev ?? cursor : cursor;
                }
                else
                {
                    var messages = await _client.GetMessagesAsync(chatId, cursor, request.Before, 200, lifetime);
                    page = [.. messages.Messages.Select(message => new YacMessageEvent(message, null))];
                    hasMore = messages.HasMore && messages.Messages.Count > 0;
                    cursor = messages.Messages.Count > 0 ? messages.Messages[^1].Seq : cursor;
                }

                await _delivery.WaitAsync(lifetime);
                try
                {
                    await WriteAsync(_sequencer.OfferFill(chatId, page), _hello?.UserId ?? Guid.Empty);
                }
                finally
                {
                    _delivery.Release();
                }

                if (!hasMore)
                {
                    break;
                }
            }

            succeeded = true;
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception) when (exception is YacNotFoundException or YacForbiddenException)
        {
            // Not a member any more: nothing to resume.
            untrack = true;
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            Log.GapFillFailed(_logger, exception, chatId);
        }

        try
        {
            FetchRequest? next;
            await _delivery.WaitAsync(lifetime);
            try
            {
                if (untrack)
                {
                    _sequencer.Untrack(chatId);
                    return;
                }

                next = _sequencer.CompleteFill(chatId, succeeded);
            }
            finally
            {
                _delivery.Release();
            }

            if (next is not null)
            {
                if (!succeeded)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(1000)), _time, lifetime);
                }

                StartFill(next);
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
        }
    }

    // --- Sending -----------------------------------------------------------------------------

    private async Task EnqueueAsync(PendingSend send)
    {
        send.Activity = YacClientTelemetry.Source.StartActivity("yac.send", ActivityKind.Producer);
        send.Activity?.SetTag("yac.chat_id", send.ChatId.ToString("D"));
        send.Activity?.SetTag("yac.client_msg_id", send.ClientMsgId);
        lock (_outboxLock)
        {
            if (_endReason is not null || !_outbox.TryAdd(send))
            {
                _outboxRoom.Release();
                send.Activity?.Dispose();
                throw _endReason is { } reason
                    ? new YacSessionEndedException(reason)
                    : new InvalidOperationException($"A send with clientMsgId {send.ClientMsgId} is already on its way.");
            }
        }

        if (_options.OutboxStore is { } store)
        {
            try
            {
                await store.SaveAsync(new YacPendingSend(send.ChatId, send.ClientMsgId, send.Text), _lifetime.Token);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Log.OutboxStoreFailed(_logger, exception);
            }
        }

        if (_connection is { } connection)
        {
            await PumpOutboxAsync(connection);
        }
    }

    /// <summary>Puts what the outbox allows on the socket, in order (one pump at a time keeps the order on the wire).</summary>
    private async Task PumpOutboxAsync(Connection connection)
    {
        try
        {
            await _pump.WaitAsync(connection.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (connection != _connection)
            {
                return;
            }

            IReadOnlyList<PendingSend> sendable;
            DateTimeOffset? retryAt;
            var now = _time.GetUtcNow();
            lock (_outboxLock)
            {
                sendable = _outbox.TakeSendable(now);
                retryAt = _outbox.NextRetryAt(now);
            }

            foreach (var send in sendable)
            {
                if (send.Transmissions > 1)
                {
                    Interlocked.Increment(ref _resentSends);
                    YacClientTelemetry.ResentSends.Add(1);
                }

                var frame = new OutgoingSend(send.ChatId.ToString("D"), send.ClientMsgId, send.Text);
                if (!await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(frame, YacJson.Wire.OutgoingSend)))
                {
                    break;
                }
            }

            if (retryAt is { } due)
            {
                _retryTimer.Change(Max(due - now, TimeSpan.FromMilliseconds(1)), Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            _pump.Release();
        }
    }

    private void OnRetryDue()
    {
        if (_connection is { } connection)
        {
            _ = PumpObservedAsync(connection);
        }
    }

    /// <summary>A pump started by the retry timer: its failures are logged here, never lost.</summary>
    private async Task PumpObservedAsync(Connection connection)
    {
        try
        {
            await PumpOutboxAsync(connection);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            Log.OutboxStoreFailed(_logger, exception);
        }
    }

    private async Task OnAckAsync(Connection connection, AckFrame ack)
    {
        PendingSend? send;
        lock (_outboxLock)
        {
            send = _outbox.Complete(ack.ClientMsgId);
        }

        if (send is null)
        {
            return;
        }

        _outboxRoom.Release();
        YacClientTelemetry.SendDuration.Record(Stopwatch.GetElapsedTime(send.StartedAt).TotalMilliseconds);
        send.Activity?.SetTag("yac.seq", ack.Seq);
        send.Activity?.Dispose();
        send.Completion?.TrySetResult(new YacSendResult(ack.ChatId, ack.ClientMsgId, ack.MessageId, ack.Seq, ack.SentAt));
        await ForgetStoredAsync(send);
        await PumpOutboxAsync(connection);
    }

    private async Task OnErrorAsync(Connection connection, ErrorFrame error)
    {
        var reference = error.Ref is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
        if (reference is null)
        {
            Log.ServerError(_logger, error.Code, null);
            return;
        }

        RefusalOutcome outcome;
        PendingSend? send;
        lock (_outboxLock)
        {
            outcome = _outbox.Refuse(reference, error.Code is "unavailable" or "rate_limited", _time.GetUtcNow(), Random.Shared.NextDouble(), out send);
        }

        switch (outcome)
        {
            case RefusalOutcome.Retry:
                Log.SendRefused(_logger, reference, error.Code, "sending it again");
                await PumpOutboxAsync(connection);
                return;
            case RefusalOutcome.Failed:
                Log.SendRefused(_logger, reference, error.Code, "given up");
                _outboxRoom.Release();
                send!.Activity?.SetStatus(ActivityStatusCode.Error, error.Code);
                send.Activity?.Dispose();
                send.Completion?.TrySetException(new YacSendException(error.Code, error.Message, reference));
                await ForgetStoredAsync(send);
                await PumpOutboxAsync(connection);
                return;
        }

        Log.ServerError(_logger, error.Code, reference);
        if (!Guid.TryParse(reference, out var chatId))
        {
            return;
        }

        // A chat's resume (or typing) was refused.
        await _delivery.WaitAsync(_lifetime.Token);
        try
        {
            if (error.Code is "forbidden" or "not_found")
            {
                _sequencer.Untrack(chatId);
            }
            else if (error.Code == "unavailable" && _sequencer.CatchUp(chatId) is { } fetch)
            {
                StartFill(fetch);
            }
        }
        finally
        {
            _delivery.Release();
        }
    }

    private async Task ForgetStoredAsync(PendingSend send)
    {
        if (_options.OutboxStore is not { } store)
        {
            return;
        }

        try
        {
            await store.RemoveAsync(send.ClientMsgId, _lifetime.Token);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.OutboxStoreFailed(_logger, exception);
        }
    }

    private static async Task<bool> TrySendFrameAsync(Connection connection, byte[] frame)
    {
        try
        {
            await connection.SendLock.WaitAsync(connection.Token);
            try
            {
                await connection.Socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, connection.Token);
                return true;
            }
            finally
            {
                connection.SendLock.Release();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket is broken: make sure its receive loop ends too, so the session reconnects.
            connection.Socket.Abort();
            return false;
        }
    }

    // --- Heartbeat and token renewal ---------------------------------------------------------

    private async Task HeartbeatAsync(Connection connection)
    {
        var interval = _options.HeartbeatInterval ?? TimeSpan.FromSeconds(Math.Max(1, connection.Hello.HeartbeatSeconds));
        var ping = 0L;
        try
        {
            using var timer = new PeriodicTimer(interval, _time);
            while (await timer.WaitForNextTickAsync(connection.Token))
            {
                var silent = _time.GetElapsedTime(connection.LastFrameAt);
                if (!connection.Handling && silent > interval * 2.5)
                {
                    // Heard nothing for two and a half beats: dead, even if the OS has not noticed.
                    Log.HeartbeatTimeout(_logger, silent.TotalSeconds);
                    connection.Socket.Abort();
                    return;
                }

                var frame = new OutgoingPing((++ping).ToString(System.Globalization.CultureInfo.InvariantCulture));
                await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(frame, YacJson.Wire.OutgoingPing));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Swaps the socket's access token (<c>auth</c>) before it expires, so the socket is never closed with 4002.</summary>
    private async Task RenewTokenLoopAsync(Connection connection)
    {
        try
        {
            var seenAt = _time.GetUtcNow();
            while (true)
            {
                var current = connection.AccessToken;
                var wait = current.RenewalDue(_client.Options.TokenRenewalMargin, seenAt) - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, connection.Token);
                }

                YacAccessToken fresh;
                try
                {
                    fresh = await _client.Tokens.GetAccessTokenAsync(connection.Token);
                    if (fresh == current)
                    {
                        fresh = await _client.Tokens.RenewAccessTokenAsync(current, connection.Token);
                    }
                }
                catch (YacUnauthorizedException)
                {
                    // The device session is over: the socket's 4001 or 4002 ends the session.
                    return;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.TokenSwapFailed(_logger, exception);
                    await Task.Delay(TimeSpan.FromSeconds(2), _time, connection.Token);
                    continue;
                }

                connection.AccessToken = fresh;
                seenAt = _time.GetUtcNow();
                await TrySendFrameAsync(connection, JsonSerializer.SerializeToUtf8Bytes(new OutgoingAuth(fresh.Value), YacJson.Wire.OutgoingAuth));
                // A provider whose fresh tokens are already due must not make this spin.
                await Task.Delay(TimeSpan.FromSeconds(1), _time, connection.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // --- Ending ------------------------------------------------------------------------------

    private void End(YacSessionEndReason reason)
    {
        lock (_outboxLock)
        {
            if (_endReason is not null)
            {
                return;
            }

            _endReason = reason;
        }

        _ended.TrySetResult(reason);

        Log.SessionEnded(_logger, reason);
        _lifetime.Cancel();
        _connection?.Socket.Abort();
        IReadOnlyList<PendingSend> unsent;
        lock (_outboxLock)
        {
            unsent = _outbox.Clear();
        }

        foreach (var send in unsent)
        {
            send.Activity?.Dispose();
            send.Completion?.TrySetException(new YacSessionEndedException(reason));
        }

        _events.Writer.TryWrite(new YacSessionEndedEvent(reason));
        _events.Writer.TryComplete();
    }

    private void ThrowIfEnded()
    {
        if (_endReason is { } reason)
        {
            throw new YacSessionEndedException(reason);
        }
    }

    private static Uri SocketUrl(Uri baseAddress) =>
        new UriBuilder(new Uri(baseAddress, "ws")) { Scheme = baseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>One socket: its hello, its token, its send lock, and when it last heard from the server.</summary>
    private sealed class Connection(
        ClientWebSocket socket, HelloFrame hello, YacAccessToken accessToken, FrameBuffer buffer, CancellationTokenSource lifetime, TimeProvider time)
        : IDisposable
    {
        public ClientWebSocket Socket { get; } = socket;

        public HelloFrame Hello { get; } = hello;

        public FrameBuffer Buffer { get; } = buffer;

        public SemaphoreSlim SendLock { get; } = new(1, 1);

        public CancellationToken Token { get; } = lifetime.Token;

        public YacAccessToken AccessToken { get; set; } = accessToken;

        public long LastFrameAt { get; set; } = time.GetTimestamp();

        private volatile bool _handling;

        /// <summary>A frame is being handled (perhaps waiting for the application to read): not silence.</summary>
        public bool Handling
        {
            get => _handling;
            set => _handling = value;
        }

        public Task CancelAsync() => lifetime.CancelAsync();

        public void Dispose()
        {
            Socket.Dispose();
            SendLock.Dispose();
            lifetime.Dispose();
        }
    }
}

/// <summary>The close codes the session acts on.</summary>
internal static class CloseCodes
{
    public const int Abnormal = 1006;
    public const int ServerRestarting = 1012;
    public const int SessionRevoked = 4001;
    public const int TokenExpired = 4002;
}

/// <summary>A growable buffer for one frame, reused across frames of a socket.</summary>
internal sealed class FrameBuffer
{
    private byte[] _buffer = new byte[16 * 1024];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, Length);

    public void Reset() => Length = 0;

    public Memory<byte> GetMemory()
    {
        if (_buffer.Length - Length < 4096)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        return _buffer.AsMemory(Length);
    }

    public void Advance(int count) => Length += count;
}
