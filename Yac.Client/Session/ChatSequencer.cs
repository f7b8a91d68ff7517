namespace Yac.Client.Session;

/// <summary>Read a chat's missing range over REST: messages by seq (v1), or changes by rev (v1.1).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="ByRev">Read <c>/changes?afterRev=</c> rather than <c>/messages?afterSeq=</c>.</param>
/// <param name="After">The last position delivered.</param>
/// <param name="Before">Stop before this position (null: read to the end).</param>
internal sealed record FetchRequest(Guid ChatId, bool ByRev, long After, long? Before);

/// <summary>What to hand the application now, in this order, and what to read to close a gap.</summary>
internal readonly record struct SequencerResult(IReadOnlyList<YacChatChangeEvent> Deliver, FetchRequest? Fetch)
{
    public static readonly SequencerResult Nothing = new([], null);
}

/// <summary>
/// The per-chat guarantee of the session: every change of every tracked chat reaches the
/// application exactly once and in order, whatever the sockets did (replays after a reconnect,
/// a live message that overtook a replay, a lost frame).
/// <para>
/// Per chat it keeps the last delivered <c>seq</c> (messages) and, once frames carry one, the last
/// delivered <c>rev</c> (every change, v1.1). A change is a duplicate when its rev (or, for a
/// message, its seq) is not past the position; it is next when it is exactly one past; anything
/// further is held, and a fetch of the missing range is asked for (one per chat at a time). Rev
/// orders when both sides know it, seq otherwise. Frames that carry neither (v1 membership) are
/// delivered as they come. Pure and single-threaded: the session owns it from one loop.
/// </para>
/// </summary>
internal sealed class ChatSequencer(int maxHeldPerChat = 10_000)
{
    private readonly Dictionary<Guid, ChatState> _chats = [];

    /// <summary>Starts tracking a chat from a known position (null: from its first frame), or moves an unknown one.</summary>
    public void Track(Guid chatId, long? lastSeq, long? lastRev)
    {
        var state = GetOrAdd(chatId);
        state.LastSeq ??= lastSeq;
        state.LastRev ??= lastRev;
    }

    /// <summary>Stops tracking (the user left the chat): it is no longer resumed.</summary>
    public void Untrack(Guid chatId) => _chats.Remove(chatId);

    public bool IsTracked(Guid chatId) => _chats.ContainsKey(chatId);

    /// <summary>How many frames were dropped as duplicates so far.</summary>
    public long Duplicates { get; private set; }

    /// <summary>The last delivered position of each tracked chat whose position is known.</summary>
    public IReadOnlyDictionary<Guid, YacChatPosition> Positions =>
        _chats.Where(chat => chat.Value.LastSeq is not null || chat.Value.LastRev is not null)
            .ToDictionary(chat => chat.Key, chat => new YacChatPosition(chat.Value.LastSeq ?? 0, chat.Value.LastRev));

    /// <summary>A frame from the socket (live or replayed).</summary>
    public SequencerResult Offer(YacChatChangeEvent change)
    {
        var state = GetOrAdd(change.ChatId);
        var deliver = new List<YacChatChangeEvent>();
        Accept(state, change, deliver);
        return new(deliver, NextFetch(change.ChatId, state));
    }

    /// <summary>A page of the range asked for by a <see cref="FetchRequest"/>.</summary>
    public IReadOnlyList<YacChatChangeEvent> OfferFill(Guid chatId, IEnumerable<YacChatChangeEvent> page)
    {
        if (!_chats.TryGetValue(chatId, out var state))
        {
            return [];
        }

        var deliver = new List<YacChatChangeEvent>();
        foreach (var change in page)
        {
            Accept(state, change, deliver);
        }

        return deliver;
    }

    /// <summary>The fetch ended (every page offered, or it failed): the next fetch, if a gap remains.</summary>
    public FetchRequest? CompleteFill(Guid chatId, bool succeeded)
    {
        if (!_chats.TryGetValue(chatId, out var state))
        {
            return null;
        }

        if (succeeded && state.FillToEnd)
        {
            state.CatchUp = false;
        }

        state.FillInFlight = false;
        return NextFetch(chatId, state);
    }

    /// <summary>
    /// The server says it has sent up to here (<c>resumed</c>), or that a chat's replay failed
    /// (null positions: read to the end): asks for a fetch if the chat is behind.
    /// </summary>
    public FetchRequest? CatchUp(Guid chatId, long? seq = null, long? rev = null)
    {
        if (!_chats.TryGetValue(chatId, out var state))
        {
            return null;
        }

        var behind = (seq, rev) switch
        {
            (null, null) => true,
            _ => (rev is { } r && state.LastRev is { } lastRev && r > lastRev)
                || (seq is { } s && state.LastSeq is { } lastSeq && s > lastSeq),
        };
        if (behind && (state.LastSeq is not null || state.LastRev is not null))
        {
            state.CatchUp = true;
        }

        return NextFetch(chatId, state);
    }

    private ChatState GetOrAdd(Guid chatId)
    {
        if (!_chats.TryGetValue(chatId, out var state))
        {
            state = new ChatState();
            _chats[chatId] = state;
        }

        return state;
    }

    private void Accept(ChatState state, YacChatChangeEvent change, List<YacChatChangeEvent> deliver)
    {
        switch (Classify(state, change))
        {
            case Placement.Duplicate:
                Duplicates++;
                return;
            case Placement.Gap:
                Hold(state, change);
                return;
        }

        Advance(state, change);
        deliver.Add(change);

        // What was held may follow now.
        var progressed = true;
        while (progressed && state.Held.Count > 0)
        {
            progressed = false;
            for (var index = 0; index < state.Held.Count; index++)
            {
                var held = state.Held[index];
                var placement = Classify(state, held);
                if (placement == Placement.Gap)
                {
                    continue;
                }

                state.Held.RemoveAt(index);
                if (placement == Placement.Next)
                {
                    Advance(state, held);
                    deliver.Add(held);
                }
                else
                {
                    Duplicates++;
                }

                progressed = true;
                break;
            }
        }
    }

    private void Hold(ChatState state, YacChatChangeEvent change)
    {
        if (state.Held.Exists(held => SamePosition(held, change)))
        {
            return;
        }

        if (state.Held.Count >= maxHeldPerChat)
        {
            // Not kept: a fetch to the end reads it again once the earlier gap is closed.
            state.CatchUp = true;
            return;
        }

        state.Held.Add(change);
    }

    private static FetchRequest? NextFetch(Guid chatId, ChatState state)
    {
        if (state.FillInFlight)
        {
            return null;
        }

        FetchRequest? request = null;
        if (state.Held.Count > 0)
        {
            var byRev = state.LastRev is not null && state.Held.Exists(held => held.Rev is not null);
            var before = byRev
                ? state.Held.Where(held => held.Rev is not null).Min(held => held.Rev!.Value)
                : state.Held.Select(SeqOf).Where(seq => seq is not null).Min(seq => seq!.Value);
            request = new FetchRequest(chatId, byRev, byRev ? state.LastRev!.Value : state.LastSeq ?? 0, before);
        }
        else if (state.CatchUp)
        {
            var byRev = state.LastRev is not null;
            request = new FetchRequest(chatId, byRev, byRev ? state.LastRev!.Value : state.LastSeq ?? 0, null);
        }

        if (request is not null)
        {
            state.FillInFlight = true;
            state.FillToEnd = request.Before is null;
        }

        return request;
    }

    private static Placement Classify(ChatState state, YacChatChangeEvent change)
    {
        var seq = SeqOf(change);
        if (seq is { } s && state.LastSeq is { } lastSeq && s <= lastSeq)
        {
            return Placement.Duplicate;
        }

        if (change.Rev is { } rev && state.LastRev is { } lastRev)
        {
            return rev <= lastRev ? Placement.Duplicate : rev == lastRev + 1 ? Placement.Next : Placement.Gap;
        }

        if (seq is { } messageSeq && state.LastSeq is { } last)
        {
            return messageSeq == last + 1 ? Placement.Next : Placement.Gap;
        }

        // The first frame of a chat whose position is unknown, or one that carries no position.
        return Placement.Next;
    }

    private static void Advance(ChatState state, YacChatChangeEvent change)
    {
        if (change.Rev is { } rev)
        {
            state.LastRev = Math.Max(state.LastRev ?? 0, rev);
        }

        if (SeqOf(change) is { } seq)
        {
            state.LastSeq = Math.Max(state.LastSeq ?? 0, seq);
        }
    }

    private static bool SamePosition(YacChatChangeEvent a, YacChatChangeEvent b) =>
        a.Rev is not null ? a.Rev == b.Rev : SeqOf(a) is { } seq && seq == SeqOf(b);

    private static long? SeqOf(YacChatChangeEvent change) => change is YacMessageEvent message ? message.Message.Seq : null;

    private enum Placement
    {
        Next,
        Duplicate,
        Gap,
    }

    private sealed class ChatState
    {
        public long? LastSeq { get; set; }

        public long? LastRev { get; set; }

        public List<YacChatChangeEvent> Held { get; } = [];

        public bool FillInFlight { get; set; }

        public bool FillToEnd { get; set; }

        public bool CatchUp { get; set; }
    }
}
