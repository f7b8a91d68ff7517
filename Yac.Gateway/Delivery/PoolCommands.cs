using Yac.Gateway.Chats;
using Yac.Gateway.Protocol;
using Yac.Gateway.Sockets;

namespace Yac.Gateway.Delivery;

/// <summary>
/// What one socket has had of one chat. Owned by the pool loop. Live changes reach the socket only
/// while it is not catching up (a resume, or a join learnt late): the catch-up reads the log from
/// <see cref="LastSentRev"/> until it reaches the chat's stream, so per socket revs stay strictly
/// increasing, gap-free and unique.
/// </summary>
internal sealed class SocketChatState(long lastSentRev, long lastSentSeq)
{
    /// <summary>The highest rev written to the socket (or, after a resume, that the client has seen).</summary>
    public long LastSentRev { get; set; } = lastSentRev;

    /// <summary>The highest message seq written to the socket (what <c>resumed</c> reports).</summary>
    public long LastSentSeq { get; set; } = lastSentSeq;

    /// <summary>Non-null while the socket reads this chat from the log instead of live.</summary>
    public SocketCatchUp? CatchUp { get; set; }

    /// <summary>
    /// Set when the user left at this rev while the socket was catching up: it gets every change up
    /// to and including it, then leaves the chat.
    /// </summary>
    public ChatChange? LeftAt { get; set; }
}

/// <summary>
/// A socket's catch-up on one chat: where its first read starts, and the resume waiting for it, if any.
/// A held one (a new socket waiting for its resume) reads nothing: it keeps what arrives live until
/// the resume comes or the window ends.
/// </summary>
internal sealed class SocketCatchUp(long generation, long? afterSeq, long? afterRev, ResumeProgress? resume)
{
    /// <summary>The most changes a held socket keeps per chat; past it, its release reads the log instead.</summary>
    public const int MaxHeldChanges = 256;

    /// <summary>Results of an older catch-up of the same socket and chat are dropped.</summary>
    public long Generation { get; } = generation;

    /// <summary>A v1 resume: the first read starts at the creation of the first message after this seq.</summary>
    public long? AfterSeq { get; set; } = afterSeq;

    /// <summary>A v1.1 resume's last seen rev (the replay starts at the earlier of it and <see cref="AfterSeq"/>'s).</summary>
    public long? AfterRev { get; } = afterRev;

    public ResumeProgress? Resume { get; } = resume;

    public bool InFlight { get; set; }

    public int Failures { get; set; }

    /// <summary>Non-null while held: the changes that arrived live meanwhile, in rev order (null again once they overflowed).</summary>
    public List<ChatChange>? Held { get; private set; }

    public bool IsHeld { get; private set; }

    public static SocketCatchUp Hold(long generation) => new(generation, null, null, null) { IsHeld = true, Held = [] };

    /// <summary>Keeps a change that went live while held; past <see cref="MaxHeldChanges"/> none is kept (the log has them).</summary>
    public void Keep(ChatChange change)
    {
        if (Held is { } held)
        {
            if (held.Count < MaxHeldChanges)
            {
                held.Add(change);
            }
            else
            {
                Held = null;
            }
        }
    }
}

/// <summary>A chat with local sockets: one Redis subscription and one gap-free stream for all of them.</summary>
internal sealed class LocalChat(Guid id, ChatStream stream)
{
    public Guid Id { get; } = id;

    public ChatStream Stream { get; } = stream;

    /// <summary>The chat's local sockets with their state in it (the same objects the socket's own entry holds).</summary>
    public Dictionary<ClientConnection, SocketChatState> Sockets { get; } = [];

    /// <summary>A timer will post <see cref="FillDue"/>; no second one is armed meanwhile.</summary>
    public bool FillTimerArmed { get; set; }
}

/// <summary>One <c>resume</c> frame's progress: <c>resumed</c> goes out when every chat it named is done.</summary>
internal sealed class ResumeProgress(ResumeFrame frame, int chats)
{
    public ResumeFrame Frame { get; } = frame;

    public int Remaining { get; set; } = chats;

    public Dictionary<Guid, long> LastSeqs { get; } = [];

    public Dictionary<Guid, long> Revs { get; } = [];
}

/// <summary>Everything that changes the pool goes through its loop as one of these.</summary>
internal abstract record PoolCommand;

internal sealed record RegisterSocket(ClientConnection Connection, IReadOnlyList<ChatSummary> Chats, TaskCompletionSource<Task> Subscribed) : PoolCommand;

internal sealed record UnregisterSocket(ClientConnection Connection) : PoolCommand;

/// <summary>A change of a chat's log, from Redis.</summary>
internal sealed record ChatChangeArrived(Guid ChatId, ChatChange Change) : PoolCommand;

/// <summary>A frame for the chat's local sockets, except those of <paramref name="ExceptUserId"/> (reads, typing: not in the log).</summary>
internal sealed record ChatBroadcast(Guid ChatId, ReadOnlyMemory<byte> Frame, Guid? ExceptUserId) : PoolCommand;

/// <summary>The user's channel says they joined the chat at <paramref name="Rev"/>.</summary>
internal sealed record UserJoinedChat(Guid UserId, Guid ChatId, long Rev) : PoolCommand;

/// <summary>The user's chats as ChatService lists them now (read again after a subscription or a reconnect).</summary>
internal sealed record UserChatsRead(Guid UserId, IReadOnlyList<ChatSummary>? Chats) : PoolCommand;

internal sealed record DeviceRevoked(Guid UserId, Guid DeviceId) : PoolCommand;

internal sealed record PresenceChanged(Guid UserId, ReadOnlyMemory<byte> Frame, IReadOnlyList<Guid> ChatIds) : PoolCommand;

internal sealed record ChatSubscribed(Guid ChatId) : PoolCommand;

internal sealed record UserSubscribed(Guid UserId) : PoolCommand;

internal sealed record RedisReconnected : PoolCommand;

internal sealed record FillDue(Guid ChatId) : PoolCommand;

internal sealed record FillFetched(Guid ChatId, string AccessToken, ChatCallResult<ChangeBatch> Page) : PoolCommand;

internal sealed record SocketFetchDue(ClientConnection Connection, Guid ChatId, long Generation) : PoolCommand;

internal sealed record SocketFetched(ClientConnection Connection, Guid ChatId, long Generation, ChatCallResult<ChangeBatch> Page) : PoolCommand;

internal sealed record ResumeRequested(ClientConnection Connection, ResumeFrame Frame) : PoolCommand;

/// <summary>The gateway reads the socket's frames from now on: its resume window starts.</summary>
internal sealed record SocketListening(ClientConnection Connection) : PoolCommand;

/// <summary>The socket's resume window ended (or it did something else first): what it held goes out, and it is live.</summary>
internal sealed record HoldEnded(ClientConnection Connection) : PoolCommand;

internal sealed record ReconcileDue : PoolCommand;

internal sealed record RevsFetched(IReadOnlyDictionary<Guid, long>? Revs) : PoolCommand;

internal sealed record CloseAllSockets : PoolCommand;
