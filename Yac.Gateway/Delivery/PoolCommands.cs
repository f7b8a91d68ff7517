using System.Diagnostics;
using Yac.Gateway.Chats;
using Yac.Gateway.Sockets;

namespace Yac.Gateway.Delivery;

/// <summary>A message frame on its way to sockets, serialized once.</summary>
internal sealed record PendingMessage(long Seq, ReadOnlyMemory<byte> Frame, DateTimeOffset SentAt, ActivityContext Trace);

/// <summary>What one socket has had of one chat. Owned by the pool loop.</summary>
internal sealed class SocketChatState
{
    /// <summary>The highest seq written to the socket (0: none yet).</summary>
    public long LastSent { get; set; }

    /// <summary>While a resume replays history, live messages wait here.</summary>
    public List<PendingMessage>? HeldDuringResume { get; set; }
}

/// <summary>A chat with local sockets: one Redis subscription and one gap-free stream for all of them.</summary>
internal sealed class LocalChat(Guid id, long lastSeq)
{
    public Guid Id { get; } = id;

    public HashSet<ClientConnection> Sockets { get; } = [];

    /// <summary>The highest seq this replica has passed on in order.</summary>
    public long LastSeq { get; set; } = lastSeq;

    /// <summary>Messages that arrived ahead of a gap.</summary>
    public SortedDictionary<long, PendingMessage> Pending { get; } = [];

    public bool FillScheduled { get; set; }

    public bool FillInFlight { get; set; }

    /// <summary>Set when messages may have been missed without a later one showing it (subscribe, Redis reconnect).</summary>
    public bool CatchUpRequested { get; set; }

    public int FailedFills { get; set; }
}

/// <summary>Everything that changes the pool goes through its loop as one of these.</summary>
internal abstract record PoolCommand;

internal sealed record RegisterSocket(ClientConnection Connection, IReadOnlyList<ChatSummary> Chats, TaskCompletionSource<Task> Subscribed) : PoolCommand;

internal sealed record UnregisterSocket(ClientConnection Connection) : PoolCommand;

internal sealed record ChatMessageArrived(Guid ChatId, PendingMessage Message) : PoolCommand;

/// <summary>A frame for the chat's local sockets, except those of <paramref name="ExceptUserId"/>.</summary>
internal sealed record ChatBroadcast(Guid ChatId, ReadOnlyMemory<byte> Frame, Guid? ExceptUserId) : PoolCommand;

internal sealed record UserJoinedChat(Guid UserId, Guid ChatId, long LastSeq) : PoolCommand;

internal sealed record UserLeftChat(Guid UserId, Guid ChatId) : PoolCommand;

internal sealed record DeviceRevoked(Guid UserId, Guid DeviceId) : PoolCommand;

internal sealed record PresenceChanged(Guid UserId, ReadOnlyMemory<byte> Frame, IReadOnlyList<Guid> ChatIds) : PoolCommand;

internal sealed record ChatSubscribed(Guid ChatId) : PoolCommand;

internal sealed record RedisReconnected : PoolCommand;

internal sealed record FillDue(Guid ChatId) : PoolCommand;

internal sealed record FillFetched(Guid ChatId, IReadOnlyList<PendingMessage>? Messages, bool HasMore) : PoolCommand;

internal sealed record ResumeRequested(ClientConnection Connection, IReadOnlyDictionary<Guid, long> Chats) : PoolCommand;

internal sealed record ResumePage(ClientConnection Connection, Guid ChatId, IReadOnlyList<PendingMessage> Messages) : PoolCommand;

internal sealed record ResumeChatDone(ClientConnection Connection, ResumeProgress Progress, Guid ChatId, long LastSeen, ChatCallStatus Status) : PoolCommand;

internal sealed record CloseAllSockets : PoolCommand;

/// <summary>One <c>resume</c> frame's progress: <c>resumed</c> goes out when every chat is done.</summary>
internal sealed class ResumeProgress(int chats)
{
    public int Remaining { get; set; } = chats;

    public Dictionary<Guid, long> LastSeqs { get; } = [];
}
