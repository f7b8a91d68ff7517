using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Yac.Gateway.Protocol;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Sockets;

/// <summary>A frame waiting for a socket. Live messages carry their commit time and trace for telemetry.</summary>
internal readonly record struct OutgoingFrame(ReadOnlyMemory<byte> Bytes, DateTimeOffset? LiveSentAt = null, ActivityContext Trace = default);

/// <summary>
/// One client WebSocket: a receive loop and a send loop (the socket's single writer) fed by a
/// bounded queue, plus, once the client calls ChatService (<c>send</c>, <c>read</c>), a
/// <see cref="ChatCallQueue"/> that makes those calls off the receive loop. Nobody ever waits for
/// this socket: producers <see cref="TryEnqueue(in OutgoingFrame)"/> and, when the queue is full,
/// the socket is closed with 1013 instead. Every close goes through
/// <see cref="RequestClose"/>, which also arms a timer that aborts the socket if the closing
/// handshake does not finish in time.
/// </summary>
internal sealed partial class ClientConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly GatewayOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<OutgoingFrame> _sendQueue;
    private readonly CancellationTokenSource _abortTimer = new();
    private readonly ITimer _expiryTimer;

    private string _accessToken;
    private DateTimeOffset _expiresAt;
    private volatile FrozenSet<Guid> _chatIds = FrozenSet<Guid>.Empty;

    // Created by the receive loop at the first call (most sockets only listen); read by RunAsync.
    private volatile ChatCallQueue? _chatCalls;

    private int _closeRequested;
    private volatile bool _dropQueuedFrames;
    private WebSocketCloseStatus _closeStatus;
    private string _closeDescription = "";

    // Touched only by the receive loop.
    private double _sendTokens;
    private long _sendTokensUpdatedAt;
    private readonly Queue<long> _badFrameTimes = new();
    private FixedWindowRateLimiter? _resumes;
    private int _active;

    public ClientConnection(
        WebSocket socket, Guid userId, Guid deviceId, string accessToken, DateTimeOffset expiresAt,
        GatewayOptions options, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _time = time;
        _logger = logger;
        UserId = userId;
        DeviceId = deviceId;
        _accessToken = accessToken;
        _expiresAt = expiresAt;
        _sendTokens = options.SendBurst;
        _sendTokensUpdatedAt = time.GetTimestamp();
        _sendQueue = Channel.CreateBounded<OutgoingFrame>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // only TryWrite is used: full means "too slow", never "wait"
        });
        _abortTimer.Token.Register(static state => ((WebSocket)state!).Abort(), socket);
        _expiryTimer = time.CreateTimer(
            static state => ((ClientConnection)state!).RequestClose(CloseCodes.TokenExpired, "access token expired"),
            this, Until(expiresAt), Timeout.InfiniteTimeSpan);
    }

    public string Id { get; } = Guid.NewGuid().ToString("N");

    public Guid UserId { get; }

    public Guid DeviceId { get; }

    /// <summary>The socket's current token, used for every ChatService call made on its behalf.</summary>
    public string AccessToken => Volatile.Read(ref _accessToken);

    public DateTimeOffset ExpiresAt => _expiresAt;

    /// <summary>The chats this socket's user is in, as last published by the pool (read by the receive loop).</summary>
    public bool IsMemberOf(Guid chatId) => _chatIds.Contains(chatId);

    /// <summary>Called by the pool after it changed the socket's chats.</summary>
    internal void PublishChatIds(IEnumerable<Guid> chatIds) => _chatIds = chatIds.ToFrozenSet();

    internal IReadOnlyCollection<Guid> ChatIds => _chatIds;

    /// <summary>Queues a frame without ever waiting. A full queue closes the socket with 1013.</summary>
    public bool TryEnqueue(in OutgoingFrame frame)
    {
        if (_sendQueue.Writer.TryWrite(frame))
        {
            return true;
        }

        if (Volatile.Read(ref _closeRequested) == 0)
        {
            GatewayTelemetry.SlowConsumerCloses.Add(1);
            LogSlowConsumer(Id, _options.SendQueueCapacity);
            _dropQueuedFrames = true;
            RequestClose(CloseCodes.TooSlow, "too slow", _options.SlowConsumerCloseTimeout);
        }

        return false;
    }

    public bool TryEnqueue(ReadOnlyMemory<byte> frame) => TryEnqueue(new OutgoingFrame(frame));

    /// <summary>Closes the socket once: queued frames are written first (unless it is a slow consumer), then the close frame.</summary>
    public void RequestClose(WebSocketCloseStatus status, string description, TimeSpan? timeout = null)
    {
        if (Interlocked.CompareExchange(ref _closeRequested, 1, 0) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeDescription = description;
        _sendQueue.Writer.TryComplete();
        _abortTimer.CancelAfter(timeout ?? _options.CloseTimeout);
    }

    /// <summary>Swaps the token (same user and device, checked by the caller) and re-arms the expiry close.</summary>
    public void SwapToken(string accessToken, DateTimeOffset expiresAt)
    {
        Volatile.Write(ref _accessToken, accessToken);
        _expiresAt = expiresAt;
        _expiryTimer.Change(Until(expiresAt), Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Queues a call to ChatService (receive loop only), made later by the socket's own forwarding task,
    /// in arrival order. False when <see cref="GatewayOptions.MaxQueuedChatCalls"/> calls already wait
    /// (the caller answers <c>rate_limited</c>) or the socket is closing (no answer reaches it any more).
    /// </summary>
    public bool TryQueueChatCall(ClientFrame call, Func<ClientConnection, ClientFrame, CancellationToken, Task> forward)
    {
        if (Volatile.Read(ref _closeRequested) != 0)
        {
            return false;
        }

        var chatCalls = _chatCalls ??= new ChatCallQueue(this, _options.MaxQueuedChatCalls, forward, _logger);
        return chatCalls.TryQueue(call);
    }

    /// <summary>A token bucket for <c>send</c> and <c>typing</c> frames (receive loop only).</summary>
    public bool TryTakeSendToken()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_sendTokensUpdatedAt, now).TotalSeconds;
        _sendTokensUpdatedAt = now;
        _sendTokens = Math.Min(_options.SendBurst, _sendTokens + (elapsed * _options.SendsPerSecond));
        if (_sendTokens < 1)
        {
            return false;
        }

        _sendTokens -= 1;
        return true;
    }

    /// <summary>
    /// One of the socket's <see cref="GatewayOptions.ResumesPerMinute"/> (receive loop only): a replay
    /// reads the chats' logs, so a socket may not ask for them in a loop. The window's limiter exists
    /// only on sockets that resumed.
    /// </summary>
    /// <summary>True the first time only: the socket's first <c>send</c>, <c>read</c> or <c>typing</c> ends its resume window.</summary>
    public bool TryMarkActive() => Interlocked.Exchange(ref _active, 1) == 0;

    public bool TryTakeResumePermit()
    {
        _resumes ??= new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = _options.ResumesPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        using var lease = _resumes.AttemptAcquire();
        return lease.IsAcquired;
    }

    /// <summary>Answers a bad frame with <c>bad_request</c>; too many of them close the socket with 1008.</summary>
    public void RejectFrame(string message, string? reference = null)
    {
        TryEnqueue(ServerFrames.Error(ErrorCodes.BadRequest, message, reference));
        var now = _time.GetTimestamp();
        _badFrameTimes.Enqueue(now);
        while (_badFrameTimes.Count > 0 && _time.GetElapsedTime(_badFrameTimes.Peek(), now) > _options.BadFrameWindow)
        {
            _badFrameTimes.Dequeue();
        }

        if (_badFrameTimes.Count > _options.BadFrameLimit)
        {
            RequestClose(WebSocketCloseStatus.PolicyViolation, "too many bad frames");
        }
    }

    /// <summary>Runs the socket until it is closed or broken.</summary>
    public async Task RunAsync(Func<ClientConnection, ReadOnlyMemory<byte>, Task> onTextFrame, CancellationToken cancellationToken)
    {
        var sending = SendLoopAsync();
        var receiving = ReceiveLoopAsync(onTextFrame, cancellationToken);
        try
        {
            if (await Task.WhenAny(sending, receiving) == receiving)
            {
                // The client closed (or vanished, or broke a limit): answer its close after what is
                // queued, without waiting for ChatService.
                await StopChatCallsAsync();
                RequestClose(WebSocketCloseStatus.NormalClosure, "");
                await sending;
            }
            else
            {
                // Our close frame went out (or the socket broke): wait for the client's, bounded by the abort timer.
                if (Volatile.Read(ref _closeRequested) == 0)
                {
                    _socket.Abort();
                }

                await StopChatCallsAsync();
                await receiving;
            }
        }
        finally
        {
            // Again once the receive loop is done: it may have started calls after the stop above.
            await StopChatCallsAsync();
        }
    }

    private Task StopChatCallsAsync() => _chatCalls?.StopAsync() ?? Task.CompletedTask;

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var frame in _sendQueue.Reader.ReadAllAsync())
            {
                if (_dropQueuedFrames)
                {
                    break;
                }

                await WriteAsync(frame);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeDescription, CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Broken or aborted socket: nothing more can be written.
            LogSendStopped(Id, exception);
        }
    }

    private async ValueTask WriteAsync(OutgoingFrame frame)
    {
        Activity? activity = null;
        if (frame.Trace != default)
        {
            activity = GatewayTelemetry.ActivitySource.StartActivity("ws deliver message", ActivityKind.Producer, frame.Trace);
            activity?.SetTag("yac.connection.id", Id);
        }

        try
        {
            await _socket.SendAsync(frame.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            activity?.Dispose();
        }

        GatewayTelemetry.FramesSent.Add(1);
        if (frame.LiveSentAt is { } sentAt)
        {
            GatewayTelemetry.Deliveries.Add(1);
            GatewayTelemetry.DeliveryLatency.Record((_time.GetUtcNow() - sentAt).TotalMilliseconds);
        }
    }

    private async Task ReceiveLoopAsync(Func<ClientConnection, ReadOnlyMemory<byte>, Task> onTextFrame, CancellationToken cancellationToken)
    {
        var maxFrameBytes = _options.MaxFrameBytes;
        try
        {
            while (true)
            {
                // A zero-byte read waits for data without holding a buffer: idle sockets cost little memory.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (peek.EndOfMessage)
                {
                    // An empty frame: nothing more to read for it.
                    RejectFrame(peek.MessageType == WebSocketMessageType.Binary
                        ? "Binary frames are not supported: send JSON text frames."
                        : "The frame is not JSON.");
                    continue;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(maxFrameBytes + 1);
                try
                {
                    var count = 0;
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        result = await _socket.ReceiveAsync(buffer.AsMemory(count, maxFrameBytes + 1 - count), cancellationToken);
                        count += result.Count;
                        if (count > maxFrameBytes)
                        {
                            RequestClose(WebSocketCloseStatus.MessageTooBig, $"frames are limited to {maxFrameBytes} bytes");
                            return;
                        }
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                    switch (result.MessageType)
                    {
                        case WebSocketMessageType.Close:
                            return;
                        case WebSocketMessageType.Binary:
                            RejectFrame("Binary frames are not supported: send JSON text frames.");
                            break;
                        default:
                            await onTextFrame(this, buffer.AsMemory(0, count));
                            break;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (Volatile.Read(ref _closeRequested) != 0 && _socket.State != WebSocketState.Open)
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogReceiveStopped(Id, exception);
        }
    }

    private TimeSpan Until(DateTimeOffset moment)
    {
        var due = moment - _time.GetUtcNow();
        return due < TimeSpan.Zero ? TimeSpan.Zero : due;
    }

    public void Dispose()
    {
        _chatCalls?.Dispose();
        _resumes?.Dispose();
        _expiryTimer.Dispose();
        _abortTimer.Dispose();
        _socket.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Socket {ConnectionId} did not read its frames: its send queue of {Capacity} overflowed; closing it with 1013")]
    private partial void LogSlowConsumer(string connectionId, int capacity);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId}: send loop stopped")]
    private partial void LogSendStopped(string connectionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId}: receive loop stopped")]
    private partial void LogReceiveStopped(string connectionId, Exception exception);
}
