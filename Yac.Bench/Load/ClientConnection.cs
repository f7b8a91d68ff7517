using System.Buffers;
using System.Net.WebSockets;

namespace Yac.Bench.Load;

/// <summary>
/// One real WebSocket client: connects, completes the system's opening exchange, then reads every
/// frame in a loop and reports deliveries and acks to the <see cref="LoadMeter"/>. Sends are
/// serialized (a WebSocket allows one write at a time); a sender that is still busy with earlier
/// sends skips rather than queueing without bound.
/// </summary>
public sealed class ClientConnection : IFrameHandler, IAsyncDisposable
{
    private const int MaxPendingSends = 4;
    private const int ReceiveBufferSize = 2048;

    private readonly IChatWireProtocol _protocol;
    private readonly LoadMeter _meter;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private Task _receiveLoop = Task.CompletedTask;
    private int _pendingSends;
    private long _messagesReceived;

    public ClientConnection(BenchClient client, IChatWireProtocol protocol, LoadMeter meter)
    {
        Client = client;
        _protocol = protocol;
        _meter = meter;
    }

    public BenchClient Client { get; }

    public bool IsOpen => _socket.State == WebSocketState.Open;

    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);

    public async Task ConnectAsync(Uri server, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        _protocol.Configure(_socket.Options, Client);
        // The protocol's own pings keep the session alive, as a real client of each system does.
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await _socket.ConnectAsync(_protocol.GetSocketUri(server, Client), invoker, cancellationToken);
        _receiveLoop = ReceiveLoopAsync(_stopping.Token);
        if (!_protocol.OpeningFrame.IsEmpty)
        {
            await SendFrameAsync(_protocol.OpeningFrame, cancellationToken);
        }

        await _ready.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Starts a send unless this socket still has earlier sends in flight.</summary>
    public bool TrySend(byte[] frame, StepCounters counters)
    {
        if (Interlocked.Increment(ref _pendingSends) > MaxPendingSends)
        {
            Interlocked.Decrement(ref _pendingSends);
            counters.CountSkippedBusy();
            return false;
        }

        _ = SendCountedAsync(frame, counters);
        return true;
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        if (IsOpen && Volatile.Read(ref _pendingSends) == 0)
        {
            try
            {
                await SendFrameAsync(_protocol.PingFrame, cancellationToken);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A socket that cannot take a ping is closing; its receive loop reports that.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
        _sendLock.Dispose();
        _stopping.Dispose();
    }

    void IFrameHandler.OnReady() => _ready.TrySetResult();

    void IFrameHandler.OnMessage(ReadOnlySpan<byte> clientMsgId)
    {
        Interlocked.Increment(ref _messagesReceived);
        _meter.OnDelivered(clientMsgId, Client.ServerIndex);
    }

    void IFrameHandler.OnAck(ReadOnlySpan<byte> clientMsgId) => _meter.OnAcked(clientMsgId);

    void IFrameHandler.OnError(string code, string detail)
    {
        _meter.OnError(code);
        _ready.TrySetException(new InvalidOperationException($"The server refused the session: {code} {detail}"));
    }

    private async Task SendCountedAsync(byte[] frame, StepCounters counters)
    {
        try
        {
            await SendFrameAsync(frame, _stopping.Token);
            counters.CountSent();
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            counters.CountSendFailed();
        }
        finally
        {
            Interlocked.Decrement(ref _pendingSends);
        }
    }

    private async Task SendFrameAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[ReceiveBufferSize];
        var assembled = new ArrayBufferWriter<byte>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.EndOfMessage && assembled.WrittenCount == 0)
                {
                    _protocol.Parse(buffer.AsSpan(0, result.Count), this);
                    continue;
                }

                assembled.Write(buffer.AsSpan(0, result.Count));
                if (result.EndOfMessage)
                {
                    _protocol.Parse(assembled.WrittenSpan, this);
                    assembled.ResetWrittenCount();
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                _meter.OnSocketClosed();
            }

            _ready.TrySetException(new WebSocketException($"The socket closed before the session started ({_socket.CloseStatus} {_socket.CloseStatusDescription})."));
        }
    }
}
