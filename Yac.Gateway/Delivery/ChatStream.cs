using System.Diagnostics;

namespace Yac.Gateway.Delivery;

/// <summary>
/// One change of a chat's log on its way to sockets: its rev, what it is, and the frame, serialized
/// once for every socket. <see cref="Seq"/> is the message's seq for a <c>message</c> change.
/// </summary>
internal sealed record ChatChange(long Rev, string Type, Guid? UserId, long? Seq, ReadOnlyMemory<byte> Frame, ActivityContext Trace = default, DateTimeOffset? SentAt = null)
{
    public const string Message = "message";
    public const string MemberJoined = "memberJoined";
    public const string MemberLeft = "memberLeft";
}

/// <summary>When a chat's gap is fetched, and how fetches back off while history cannot be read.</summary>
internal sealed record GapFillPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay)
{
    public static readonly GapFillPolicy Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>The delay before the next fetch after <paramref name="failures"/> failed ones in a row.</summary>
    public TimeSpan DelayAfter(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, (long)(FirstDelay.Ticks * Math.Pow(2, Math.Min(failures, 30)))));
}

/// <summary>
/// The gap-free stream of one chat's changes on one replica: changes arrive from Redis in any order
/// and any number of times, and leave in rev order, each once, with no gap, ever. A change ahead of a
/// gap waits; the gap is fetched from the log (after <see cref="GapFillPolicy.FirstDelay"/>, so a
/// change merely late on the wire needs no fetch) and fetched again, backing off up to
/// <see cref="GapFillPolicy.MaxDelay"/>, for as long as it exists: it is never skipped. A catch-up
/// (after subscribing, a Redis reconnect, or when reconciliation finds the chat further on) fetches
/// even without a visible gap. Pure: time comes from the caller, I/O is the caller's.
/// </summary>
internal sealed class ChatStream(long rev, GapFillPolicy policy)
{
    private readonly SortedDictionary<long, ChatChange> _ahead = [];
    private bool _catchUpRequested;
    private bool _fetchInFlight;
    private int _failures;
    private DateTimeOffset? _gapSince;
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    /// <summary>The highest rev passed on in order: every change up to it has left the stream.</summary>
    public long Rev { get; private set; } = rev;

    /// <summary>Changes waiting behind a gap.</summary>
    public int Waiting => _ahead.Count;

    public bool FetchInFlight => _fetchInFlight;

    /// <summary>Takes a change from Redis; returns what can now leave, in rev order (often just it).</summary>
    public IReadOnlyList<ChatChange> Accept(ChatChange change, DateTimeOffset now)
    {
        if (change.Rev <= Rev)
        {
            return [];
        }

        _ahead.TryAdd(change.Rev, change);
        var ready = Drain();
        if (_ahead.Count > 0)
        {
            _gapSince ??= now;
        }

        return ready;
    }

    /// <summary>Something may have been missed without a later change showing it: fetch even without a gap.</summary>
    public void RequestCatchUp() => _catchUpRequested = true;

    /// <summary>
    /// Whether a fetch should start now; if so it is marked in flight and <paramref name="afterRev"/>
    /// is where it reads from. <paramref name="dueIn"/> says when to ask again when not now (null:
    /// nothing to fetch).
    /// </summary>
    public bool TryStartFetch(DateTimeOffset now, out long afterRev, out TimeSpan? dueIn)
    {
        afterRev = Rev;
        dueIn = null;
        if (_fetchInFlight || (!_catchUpRequested && _ahead.Count == 0))
        {
            return false;
        }

        var due = _notBefore;
        if (_ahead.Count > 0 && !_catchUpRequested && _gapSince is { } since && since + policy.FirstDelay > due)
        {
            due = since + policy.FirstDelay;
        }

        if (now < due)
        {
            dueIn = due - now;
            return false;
        }

        _fetchInFlight = true;
        _catchUpRequested = false;
        return true;
    }

    /// <summary>
    /// Takes a fetched page (changes after the rev the fetch started from, ascending); returns what can
    /// now leave. <paramref name="hasMore"/>: the log goes on beyond the page (fetch again at once).
    /// </summary>
    public IReadOnlyList<ChatChange> FetchSucceeded(IReadOnlyList<ChatChange> changes, bool hasMore, DateTimeOffset now)
    {
        _fetchInFlight = false;
        _failures = 0;
        _notBefore = DateTimeOffset.MinValue;
        foreach (var change in changes)
        {
            if (change.Rev > Rev)
            {
                _ahead.TryAdd(change.Rev, change);
            }
        }

        var ready = Drain();
        _catchUpRequested |= hasMore;
        if (_ahead.Count > 0)
        {
            // The page ended before what waits: the log has more (or it was read before the rest committed).
            _gapSince = now - policy.FirstDelay;
        }

        return ready;
    }

    /// <summary>The fetch failed (history unavailable): the next one waits longer, up to the cap, and is never given up.</summary>
    public void FetchFailed(DateTimeOffset now)
    {
        _fetchInFlight = false;
        _failures++;
        _catchUpRequested = true;
        _notBefore = now + policy.DelayAfter(_failures);
    }

    private List<ChatChange> Drain()
    {
        List<ChatChange>? ready = null;
        while (_ahead.Count > 0)
        {
            var (next, change) = _ahead.First();
            _ahead.Remove(next);
            if (next <= Rev)
            {
                continue;
            }

            if (next != Rev + 1)
            {
                _ahead[next] = change;
                break;
            }

            Rev = next;
            (ready ??= []).Add(change);
        }

        if (_ahead.Count == 0)
        {
            _gapSince = null;
        }

        return ready ?? [];
    }
}
