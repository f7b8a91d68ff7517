namespace Yac.Client;

/// <summary>How a live session behaves. The defaults suit an interactive app.</summary>
public sealed class YacSessionOptions
{
    /// <summary>
    /// Where each chat's stream starts: deliver what comes after these positions. Null (the
    /// default): every chat of the user from the moment of connecting (read with <c>GET /api/chats</c>
    /// first, so nothing committed between that call and the socket is missed). Chats joined later
    /// are tracked from their first frame.
    /// </summary>
    public IReadOnlyDictionary<Guid, YacChatPosition>? Positions { get; set; }

    /// <summary>
    /// How many events wait for the application (default 1,000). When it is full the session stops
    /// reading the socket (backpressure): the gateway buffers, and if its queue overflows it closes the
    /// socket with 1013; the session then reconnects and resumes from the last event it buffered.
    /// Nothing is lost and memory stays bounded, however slowly the application reads.
    /// </summary>
    public int EventBufferCapacity { get; set; } = 1_000;

    /// <summary>How many unacknowledged sends are kept (default 1,000); <see cref="YacSession.SendAsync(Guid, string, CancellationToken)"/> waits for room beyond it.</summary>
    public int OutboxCapacity { get; set; } = 1_000;

    /// <summary>How many sends are on the socket at once (default 64; the gateway queues at most 100 per socket).</summary>
    public int SendWindow { get; set; } = 64;

    /// <summary>How often a send refused with <c>unavailable</c> or <c>rate_limited</c> is tried again before it fails (default 10).</summary>
    public int MaxSendRetries { get; set; } = 10;

    /// <summary>Keeps unacknowledged sends across restarts of the application (optional).</summary>
    public IYacOutboxStore? OutboxStore { get; set; }

    /// <summary>The first reconnect waits about this long (default 250 ms), doubling each attempt.</summary>
    public TimeSpan InitialReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>No reconnect waits longer than this (default 15 s).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Overrides the server's <c>heartbeatSeconds</c> for pings (null: the server's).</summary>
    public TimeSpan? HeartbeatInterval { get; set; }
}

/// <summary>How far a chat's stream has been delivered.</summary>
/// <param name="Seq">The last message's seq (0: none yet).</param>
/// <param name="Rev">The last change's rev (v1.1 servers), or null.</param>
public sealed record YacChatPosition(long Seq, long? Rev = null);

/// <summary>A send's acknowledgement: the message is durably stored.</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="ClientMsgId">The send's idempotency key.</param>
/// <param name="MessageId">The stored message's id.</param>
/// <param name="Seq">Its seq in the chat.</param>
/// <param name="SentAt">When it was stored.</param>
public sealed record YacSendResult(Guid ChatId, string ClientMsgId, Guid MessageId, long Seq, DateTimeOffset SentAt);

/// <summary>A send not yet acknowledged, as an <see cref="IYacOutboxStore"/> keeps it.</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="ClientMsgId">Its idempotency key: resending it never stores it twice.</param>
/// <param name="Text">Its text.</param>
public sealed record YacPendingSend(Guid ChatId, string ClientMsgId, string Text);

/// <summary>
/// Keeps the outbox outside the process (a file, SQLite, ...), so that a message accepted by
/// <see cref="YacSession.SendAsync(Guid, string, CancellationToken)"/> is sent even if the application stops before its ack. The
/// session saves a send before it first goes out, removes it after its ack or final refusal, and
/// on start sends everything <see cref="LoadAsync"/> returns (their acks complete no caller; the
/// messages arrive as <see cref="YacMessageEvent"/>s).
/// </summary>
public interface IYacOutboxStore
{
    /// <summary>The sends a previous run left unacknowledged, oldest first.</summary>
    ValueTask<IReadOnlyList<YacPendingSend>> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Keeps a new send.</summary>
    ValueTask SaveAsync(YacPendingSend send, CancellationToken cancellationToken);

    /// <summary>Forgets a send (acknowledged, or refused for good).</summary>
    ValueTask RemoveAsync(string clientMsgId, CancellationToken cancellationToken);
}

/// <summary>A send the server refused for good (<c>bad_request</c>, <c>forbidden</c>, <c>not_found</c>, or too many retries).</summary>
public sealed class YacSendException : Exception
{
    /// <summary>Creates the exception.</summary>
    public YacSendException(string code, string? message, string clientMsgId)
        : base($"The server refused the send ({code}): {message}")
    {
        Code = code;
        ClientMsgId = clientMsgId;
    }

    /// <summary>The error frame's <c>code</c>.</summary>
    public string Code { get; }

    /// <summary>The refused send's clientMsgId.</summary>
    public string ClientMsgId { get; }
}

/// <summary>The session is over (<see cref="Reason"/>): nothing more can be sent on it.</summary>
public sealed class YacSessionEndedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public YacSessionEndedException(YacSessionEndReason reason)
        : base($"The YAC session has ended: {reason}.")
    {
        Reason = reason;
    }

    /// <summary>Why it ended.</summary>
    public YacSessionEndReason Reason { get; }
}
