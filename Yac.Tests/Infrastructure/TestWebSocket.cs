using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// A real WebSocket client of the gateway (System.Net.WebSockets.ClientWebSocket) for tests: reads
/// every frame into a queue (or nothing at all, to play a slow client, until <see cref="StartReading"/>),
/// and remembers how the server closed the socket.
/// <code>
/// await using var socket = await TestWebSocket.ConnectAsync(replicaUrl, alice.AccessToken, timeout.Token);
/// await socket.SendAsync(new { type = "ping", id = 1 }, timeout.Token);
/// var pong = await socket.NextAsync("pong", timeout.Token);
/// </code>
/// </summary>
public sealed class TestWebSocket : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;
    private readonly Channel<JsonElement> _frames = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task? _reading;

    private TestWebSocket(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        _socket = socket;
        _invoker = invoker;
    }

    /// <summary>Connects with a receive buffer set before the TCP handshake (it fixes the window it announces).</summary>
    private static SocketsHttpHandler SmallReceiveBufferHandler(int receiveBufferBytes) => new()
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = receiveBufferBytes };
            try
            {
                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(tcp, ownsSocket: true);
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        },
    };

    /// <summary>The server's first frame.</summary>
    public JsonElement Hello { get; private set; }

    public string GatewayId => Hello.GetProperty("gatewayId").GetString()!;

    /// <summary>How many text frames arrived so far.</summary>
    public int FramesReceived { get; private set; }

    /// <summary>The close status the server sent, once the socket is closed (null: closed without a status).</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <summary>
    /// Opens <c>/ws</c> on <paramref name="baseUrl"/> with the token in the header (or the query) and reads <c>hello</c>.
    /// <paramref name="receiveBufferBytes"/> shrinks the client's kernel receive buffer, so that a slow
    /// client stops taking frames after a little data rather than after megabytes.
    /// </summary>
    public static async Task<TestWebSocket> ConnectAsync(
        Uri baseUrl, string accessToken, CancellationToken cancellationToken,
        bool readFrames = true, bool tokenInQuery = false, string? origin = null, int? receiveBufferBytes = null)
    {
        var socket = new ClientWebSocket();
        if (!tokenInQuery)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {accessToken}");
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        socket.Options.CollectHttpResponseDetails = true;
        var invoker = receiveBufferBytes is { } bytes ? new HttpMessageInvoker(SmallReceiveBufferHandler(bytes)) : null;
        await socket.ConnectAsync(WebSocketUri(baseUrl, tokenInQuery ? accessToken : null), invoker, cancellationToken);
        var client = new TestWebSocket(socket, invoker);
        if (readFrames)
        {
            client.StartReading();
            client.Hello = await client.NextAsync("hello", cancellationToken);
        }

        return client;
    }

    public static Uri WebSocketUri(Uri baseUrl, string? accessTokenInQuery = null)
    {
        var builder = new UriBuilder(baseUrl)
        {
            Scheme = baseUrl.Scheme == "https" ? "wss" : "ws",
            Path = "/ws",
            Query = accessTokenInQuery is null ? "" : $"access_token={Uri.EscapeDataString(accessTokenInQuery)}",
        };
        return builder.Uri;
    }

    /// <summary>Starts reading frames (for a client that began as a slow one). The first frame must be <c>hello</c>.</summary>
    public void StartReading()
    {
        _reading ??= ReadLoopAsync();
    }

    /// <summary>Reads <c>hello</c> after a late <see cref="StartReading"/>.</summary>
    public async Task ReadHelloAsync(CancellationToken cancellationToken) => Hello = await NextAsync("hello", cancellationToken);

    public Task SendAsync(object frame, CancellationToken cancellationToken) =>
        SendRawAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, cancellationToken);

    public Task SendRawAsync(byte[] payload, WebSocketMessageType type, CancellationToken cancellationToken) =>
        _socket.SendAsync(payload, type, endOfMessage: true, cancellationToken);

    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendRawAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken);

    /// <summary>The next frame, whatever its type.</summary>
    public async Task<JsonElement> NextAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        // The read itself is cancelled at the timeout (not merely abandoned), so no orphaned read is
        // left behind to swallow the frame that comes next.
        var limit = timeout ?? DefaultTimeout;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        try
        {
            return await _frames.Reader.ReadAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No frame within {limit}.");
        }
        catch (ChannelClosedException)
        {
            var status = Closed.IsCompleted ? await Closed : null;
            throw new InvalidOperationException($"The socket closed ({status}) before the next frame.");
        }
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<JsonElement> NextAsync(string type, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var frame = await NextAsync(cancellationToken, timeout);
        Assert.True(frame.GetProperty("type").GetString() == type, $"Expected a '{type}' frame, got {frame.GetRawText()}");
        return frame;
    }

    /// <summary>The next frame of <paramref name="type"/>, skipping frames of the types in <paramref name="skipping"/> only.</summary>
    public async Task<JsonElement> NextSkippingAsync(string type, string[] skipping, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(cancellationToken, timeout);
            var frameType = frame.GetProperty("type").GetString();
            if (frameType == type)
            {
                return frame;
            }

            Assert.True(skipping.Contains(frameType), $"Expected a '{type}' frame, got {frame.GetRawText()}");
        }
    }

    /// <summary>The next frame that matches, skipping any other.</summary>
    public async Task<JsonElement> NextWhereAsync(Func<JsonElement, bool> predicate, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(cancellationToken, timeout);
            if (predicate(frame))
            {
                return frame;
            }
        }
    }

    /// <summary>Round trip: everything the server queued for this socket before the pong arrives first.</summary>
    public async Task<List<JsonElement>> FramesUntilPongAsync(CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString("N");
        await SendAsync(new { type = "ping", id }, cancellationToken);
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await NextAsync(cancellationToken);
            if (frame.GetProperty("type").GetString() == "pong" && frame.TryGetProperty("id", out var pongId) && pongId.GetString() == id)
            {
                return frames;
            }

            frames.Add(frame);
        }
    }

    /// <summary>Waits for the server's close and returns its status.</summary>
    public Task<WebSocketCloseStatus?> WaitForCloseAsync(CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        Closed.WaitAsync(timeout ?? DefaultTimeout, cancellationToken);

    /// <summary>Closes from the client side.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_socket.State == WebSocketState.Open)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
        }

        await Closed.WaitAsync(DefaultTimeout, cancellationToken);
    }

    /// <summary>Drops the connection without a closing handshake (a client that vanished).</summary>
    public void Abort() => _socket.Abort();

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(result.CloseStatus);
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    }

                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                using (var document = JsonDocument.Parse(message.ToArray()))
                {
                    FramesReceived++;
                    _frames.Writer.TryWrite(document.RootElement.Clone());
                }

                message.SetLength(0);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _closed.TrySetResult(null);
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        if (_reading is not null)
        {
            await _reading;
        }

        _socket.Dispose();
        _invoker?.Dispose();
        _stop.Dispose();
    }
}
