namespace Yac.Client;

/// <summary>
/// Something the live session saw. Switch on the subclass:
/// <see cref="YacMessageEvent"/>, <see cref="YacMessageUpdatedEvent"/>, <see cref="YacReadEvent"/>,
/// <see cref="YacTypingEvent"/>, <see cref="YacPresenceEvent"/>, <see cref="YacMemberJoinedEvent"/>,
/// <see cref="YacMemberLeftEvent"/>, <see cref="YacChatUpdatedEvent"/>, and the session's own
/// <see cref="YacConnectionEvent"/> and <see cref="YacSessionEndedEvent"/>.
/// </summary>
public abstract record YacEvent;

/// <summary>A change of a chat's ordered log: delivered exactly once, in order, across reconnects.</summary>
public abstract record YacChatChangeEvent : YacEvent
{
    /// <summary>The chat.</summary>
    public abstract Guid ChatId { get; }

    /// <summary>The change's position in the chat's log (v1.1 servers; null from v1 servers).</summary>
    public abstract long? Rev { get; }
}

/// <summary>A new message (your own included). Per chat: every one exactly once, in seq order.</summary>
/// <param name="Message">The stored message.</param>
/// <param name="Rev">Its change's rev (v1.1), or null.</param>
public sealed record YacMessageEvent(YacMessage Message, long? Rev) : YacChatChangeEvent
{
    /// <inheritdoc/>
    public override Guid ChatId => Message.ChatId;

    /// <inheritdoc/>
    public override long? Rev { get; } = Rev;
}

/// <summary>A message was edited, deleted or reacted to (v1.1): <paramref name="Message"/> is as it now is.</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="Rev">The change's rev.</param>
/// <param name="Message">The whole message as it now is.</param>
public sealed record YacMessageUpdatedEvent(Guid ChatId, long? Rev, YacMessage Message) : YacChatChangeEvent
{
    /// <inheritdoc/>
    public override Guid ChatId { get; } = ChatId;

    /// <inheritdoc/>
    public override long? Rev { get; } = Rev;
}

/// <summary>A member joined a chat (you included: you receive its messages from now on).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="UserId">Who joined.</param>
/// <param name="Rev">The change's rev (v1.1), or null.</param>
public sealed record YacMemberJoinedEvent(Guid ChatId, Guid UserId, long? Rev) : YacChatChangeEvent
{
    /// <inheritdoc/>
    public override Guid ChatId { get; } = ChatId;

    /// <inheritdoc/>
    public override long? Rev { get; } = Rev;
}

/// <summary>A member left or was removed (you included: no more of its messages).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="UserId">Who left.</param>
/// <param name="Rev">The change's rev (v1.1), or null.</param>
public sealed record YacMemberLeftEvent(Guid ChatId, Guid UserId, long? Rev) : YacChatChangeEvent
{
    /// <inheritdoc/>
    public override Guid ChatId { get; } = ChatId;

    /// <inheritdoc/>
    public override long? Rev { get; } = Rev;
}

/// <summary>A chat's title or visibility changed (v1.1).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="Rev">The change's rev.</param>
/// <param name="Chat">The chat as it now is.</param>
public sealed record YacChatUpdatedEvent(Guid ChatId, long? Rev, YacChat Chat) : YacChatChangeEvent
{
    /// <inheritdoc/>
    public override Guid ChatId { get; } = ChatId;

    /// <inheritdoc/>
    public override long? Rev { get; } = Rev;
}

/// <summary>A member's read position moved (live only: not replayed after a reconnect).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="UserId">Who read.</param>
/// <param name="Seq">How far they have read.</param>
public sealed record YacReadEvent(Guid ChatId, Guid UserId, long Seq) : YacEvent;

/// <summary>Another member is typing (live only).</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="UserId">Who is typing.</param>
public sealed record YacTypingEvent(Guid ChatId, Guid UserId) : YacEvent;

/// <summary>A user who shares a chat with you came online or went offline (live only; may repeat).</summary>
/// <param name="UserId">The user.</param>
/// <param name="Online">Whether they now have an open socket.</param>
public sealed record YacPresenceEvent(Guid UserId, bool Online) : YacEvent;

/// <summary>The session's connection changed.</summary>
/// <param name="State">What it is now.</param>
/// <param name="GatewayId">The replica that holds the socket, once <see cref="YacConnectionState.Connected"/>.</param>
/// <param name="CloseStatus">The close code of the socket that ended (1006 when it broke without one).</param>
/// <param name="RetryIn">How long the session waits before connecting again.</param>
public sealed record YacConnectionEvent(YacConnectionState State, string? GatewayId, int? CloseStatus, TimeSpan? RetryIn) : YacEvent;

/// <summary>The last event: the session is over and will not reconnect.</summary>
/// <param name="Reason">Why.</param>
public sealed record YacSessionEndedEvent(YacSessionEndReason Reason) : YacEvent;

/// <summary>Where a session's connection is.</summary>
public enum YacConnectionState
{
    /// <summary>Opening a socket.</summary>
    Connecting,

    /// <summary><c>hello</c> received; <c>resume</c> and the outbox went out.</summary>
    Connected,

    /// <summary>The socket ended; a new one follows after <see cref="YacConnectionEvent.RetryIn"/>.</summary>
    Reconnecting,
}

/// <summary>Why a session ended.</summary>
public enum YacSessionEndReason
{
    /// <summary>The application disposed the session.</summary>
    Disposed,

    /// <summary>This device session was revoked (logout, close 4001): sign in again.</summary>
    Revoked,

    /// <summary>The tokens could not be renewed (refresh refused): sign in again.</summary>
    Unauthorized,
}
