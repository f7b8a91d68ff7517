using System.Diagnostics;

namespace Yac.Client.Session;

/// <summary>One message on its way: kept until its ack (or a final refusal).</summary>
internal sealed class PendingSend(Guid chatId, string clientMsgId, string text)
{
    public Guid ChatId { get; } = chatId;

    public string ClientMsgId { get; } = clientMsgId;

    public string Text { get; } = text;

    /// <summary>How often it was put on a socket.</summary>
    public int Transmissions { get; set; }

    /// <summary>How often the server answered <c>unavailable</c> or <c>rate_limited</c>.</summary>
    public int Refusals { get; set; }

    /// <summary>On the current socket, waiting for its ack.</summary>
    public bool InFlight { get; set; }

    /// <summary>Not before this time (after a refusal).</summary>
    public DateTimeOffset NotBefore { get; set; }

    /// <summary>The <c>yac.send</c> span, ended by the ack or the final refusal.</summary>
    public Activity? Activity { get; set; }

    /// <summary>When the application made the send (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long StartedAt { get; init; } = Stopwatch.GetTimestamp();

    /// <summary>Completed with the ack; failed with a final refusal or the end of the session. Null for a send restored from a store.</summary>
    public TaskCompletionSource<YacSendResult>? Completion { get; init; }
}

/// <summary>What <see cref="Outbox.Refuse"/> decided.</summary>
internal enum RefusalOutcome
{
    /// <summary>Not a send of this outbox.</summary>
    Unknown,

    /// <summary>Sent again, with the same clientMsgId, not before <see cref="PendingSend.NotBefore"/>.</summary>
    Retry,

    /// <summary>Given up: removed from the outbox.</summary>
    Failed,
}

/// <summary>
/// The sends not yet acknowledged, in the order the application made them. At most
/// <c>window</c> are on the socket at once (the gateway keeps at most 100 waiting per socket;
/// staying under it keeps one socket's sends in order), and at most <c>capacity</c> are kept
/// in all. After a reconnect every unacknowledged send goes out again, in order, with its
/// clientMsgId: the server stores it at most once. Not thread-safe: one owner.
/// </summary>
internal sealed class Outbox
{
    private readonly List<PendingSend> _sends = [];
    private readonly int _window;
    private readonly int _maxRefusals;
    private readonly ReconnectBackoff _retryBackoff;

    public Outbox(int capacity, int window, int maxRefusals, ReconnectBackoff retryBackoff)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        Capacity = capacity;
        _window = window;
        _maxRefusals = maxRefusals;
        _retryBackoff = retryBackoff;
    }

    public int Capacity { get; }

    public int Count => _sends.Count;

    public bool IsFull => _sends.Count >= Capacity;

    public int InFlight => _sends.Count(send => send.InFlight);

    /// <summary>Adds a send at the end; false when full or when its clientMsgId is already here.</summary>
    public bool TryAdd(PendingSend send)
    {
        if (IsFull || _sends.Exists(existing => existing.ClientMsgId == send.ClientMsgId))
        {
            return false;
        }

        _sends.Add(send);
        return true;
    }

    /// <summary>The sends to put on the socket now, in order, marked in flight, as many as the window allows.</summary>
    public IReadOnlyList<PendingSend> TakeSendable(DateTimeOffset now)
    {
        var room = _window - InFlight;
        var sendable = new List<PendingSend>();
        foreach (var send in _sends)
        {
            if (room == 0)
            {
                break;
            }

            if (!send.InFlight && send.NotBefore <= now)
            {
                send.InFlight = true;
                send.Transmissions++;
                sendable.Add(send);
                room--;
            }
        }

        return sendable;
    }

    /// <summary>The earliest time a waiting send becomes sendable (null: none waits for a time).</summary>
    public DateTimeOffset? NextRetryAt(DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var send in _sends)
        {
            if (!send.InFlight && send.NotBefore > now && (next is null || send.NotBefore < next))
            {
                next = send.NotBefore;
            }
        }

        return next;
    }

    /// <summary>The ack arrived: removes and returns the send (null: not ours, e.g. an ack repeated after a resend).</summary>
    public PendingSend? Complete(string clientMsgId)
    {
        var index = _sends.FindIndex(send => send.ClientMsgId == clientMsgId);
        if (index < 0)
        {
            return null;
        }

        var send = _sends[index];
        _sends.RemoveAt(index);
        return send;
    }

    /// <summary>
    /// The server refused the send: a transient refusal (<c>unavailable</c>, <c>rate_limited</c>)
    /// schedules it again with backoff until <c>maxRefusals</c>; any other refusal, or one too many,
    /// removes it.
    /// </summary>
    public RefusalOutcome Refuse(string clientMsgId, bool transient, DateTimeOffset now, double random, out PendingSend? send)
    {
        send = _sends.Find(candidate => candidate.ClientMsgId == clientMsgId);
        if (send is null)
        {
            return RefusalOutcome.Unknown;
        }

        send.InFlight = false;
        if (transient && send.Refusals < _maxRefusals)
        {
            send.NotBefore = now + _retryBackoff.Delay(send.Refusals, random);
            send.Refusals++;
            return RefusalOutcome.Retry;
        }

        _sends.Remove(send);
        return RefusalOutcome.Failed;
    }

    /// <summary>The socket ended: nothing is in flight any more; the next socket sends everything again, in order.</summary>
    public void Disconnected()
    {
        foreach (var send in _sends)
        {
            send.InFlight = false;
        }
    }

    /// <summary>Empties the outbox (the session ended) and returns what was in it.</summary>
    public IReadOnlyList<PendingSend> Clear()
    {
        var all = _sends.ToList();
        _sends.Clear();
        return all;
    }
}
