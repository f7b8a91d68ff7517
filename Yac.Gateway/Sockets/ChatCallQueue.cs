using Yac.Gateway.Protocol;

namespace Yac.Gateway.Sockets;

/// <summary>
/// One socket's calls to ChatService (its <c>send</c> and <c>read</c> frames), made by a forwarding
/// task of their own, one at a time, in the order the frames arrived. The receive loop only queues
/// them, so a slow or unreachable ChatService never delays the socket's other frames (<c>ping</c>,
/// <c>typing</c>, <c>resume</c>, <c>auth</c>) nor its closing handshake.
/// <list type="bullet">
/// <item>Order: one call at a time, so a socket's sends commit in the order it sent them (m1 gets a
/// lower seq than m2, the contract's per-socket intent). Several sends in flight would not keep that:
/// ChatService commits concurrent requests in whatever order they reach its committer.</item>
/// <item>Bounded: at most <see cref="GatewayOptions.MaxQueuedChatCalls"/> calls wait. Beyond that
/// <see cref="TryQueue"/> refuses and the caller answers <c>rate_limited</c> at once, instead of
/// pushing back on the receive loop (which would hold up the socket's pings again).</item>
/// <item>Memory: created at a socket's first call; the queue and the task exist only while calls
/// wait, so an idle socket holds neither.</item>
/// <item>End: <see cref="StopAsync"/> drops the calls not yet made and cancels the one in flight
/// (see there why).</item>
/// </list>
/// </summary>
internal sealed partial class ChatCallQueue(
    ClientConnection connection,
    int capacity,
    Func<ClientConnection, ClientFrame, CancellationToken, Task> forward,
    ILogger logger) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();

    // Guarded by _gate.
    private Queue<ClientFrame>? _waiting;
    private Task _forwarding = Task.CompletedTask;
    private bool _forwardingRuns;
    private bool _stopped;

    /// <summary>Queues a call without ever waiting; false when the queue is full or stopped.</summary>
    public bool TryQueue(ClientFrame call)
    {
        lock (_gate)
        {
            if (_stopped || _waiting?.Count >= capacity)
            {
                return false;
            }

            (_waiting ??= new Queue<ClientFrame>()).Enqueue(call);
            if (!_forwardingRuns)
            {
                _forwardingRuns = true;
                // On the thread pool, so that not even the start of a call runs on the receive loop.
                // Observed: every call's failure is handled inside, and StopAsync awaits the task.
                _forwarding = Task.Run(ForwardAsync);
            }
        }

        return true;
    }

    /// <summary>
    /// The socket ended (closed by either side, or broken): the calls not yet made are dropped and the
    /// one in flight is cancelled. Deliberately: their answers could not reach the client any more,
    /// an unanswered send is one the client sends again (with the same clientMsgId, so a send that
    /// ChatService committed after all is not stored twice), and the socket's end, and the replica's
    /// shutdown, never wait for ChatService.
    /// </summary>
    public async Task StopAsync()
    {
        Task forwarding;
        lock (_gate)
        {
            _stopped = true;
            _waiting = null;
            forwarding = _forwarding;
        }

        if (!forwarding.IsCompleted)
        {
            await _stop.CancelAsync();
        }

        await forwarding;
    }

    private async Task ForwardAsync()
    {
        while (true)
        {
            ClientFrame? call;
            lock (_gate)
            {
                if (_waiting is null || !_waiting.TryDequeue(out call))
                {
                    // Idle again: let the queue go, and the next call starts a new task.
                    _waiting = null;
                    _forwardingRuns = false;
                    return;
                }
            }

            try
            {
                await forward(connection, call, _stop.Token);
            }
            catch (Exception exception) when (_stop.IsCancellationRequested)
            {
                LogForwardingStopped(connection.Id, exception);
                return;
            }
            catch (Exception exception)
            {
                // forward answers every failure it knows of itself; this only keeps a bug in one call
                // from stalling the socket's later calls (the client's unanswered send is retried).
                LogCallFailed(connection.Id, call.Type, exception);
            }
        }
    }

    public void Dispose() => _stop.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {ConnectionId}: its calls to ChatService stopped with the socket")]
    private partial void LogForwardingStopped(string connectionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Socket {ConnectionId}: a {FrameType} call to ChatService failed unexpectedly")]
    private partial void LogCallFailed(string connectionId, string frameType, Exception exception);
}
