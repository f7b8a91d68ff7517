using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yac.Contracts;

/// <summary>
/// What travels on every Redis channel: a version, the event type, the W3C trace context of
/// the publisher (so a trace follows a message across the Redis hop) and the event data.
/// </summary>
/// <param name="V">Envelope version; readers skip versions they do not know.</param>
/// <param name="Type">One of <see cref="EventTypes"/>.</param>
/// <param name="TraceParent">W3C <c>traceparent</c> of the publishing activity, if any.</param>
/// <param name="TraceState">W3C <c>tracestate</c>, if any.</param>
/// <param name="Data">The event, shaped by <see cref="Type"/>.</param>
public sealed record EventEnvelope(
    int V,
    string Type,
    string? TraceParent,
    string? TraceState,
    JsonElement Data)
{
    public const int CurrentVersion = 1;
}

/// <summary>The one table of event type names.</summary>
public static class EventTypes
{
    public const string MessageCreated = "message.created";
    public const string ReadUpdated = "read.updated";
    public const string MemberJoined = "member.joined";
    public const string MemberLeft = "member.left";
    public const string ChatCreated = "chat.created";
    public const string DeviceRevoked = "device.revoked";
    public const string Typing = "typing";
    public const string PresenceChanged = "presence.changed";
}

/// <summary>A message committed in a chat. Published on <see cref="Channels.Chat"/>.</summary>
public sealed record MessageCreatedEvent(
    Guid ChatId,
    long Seq,
    Guid Id,
    Guid SenderId,
    string Text,
    DateTimeOffset SentAt,
    string ClientMsgId);

/// <summary>A member's read position moved forward. Published on <see cref="Channels.Chat"/>.</summary>
public sealed record ReadUpdatedEvent(Guid ChatId, Guid UserId, long Seq);

/// <summary>
/// A user joined a chat. Published on <see cref="Channels.Chat"/> (for the other members) and on
/// <see cref="Channels.User"/> of the user concerned (so their gateways subscribe to the chat).
/// </summary>
public sealed record MemberJoinedEvent(Guid ChatId, Guid UserId, long LastSeq);

/// <summary>A user left or was removed from a chat. Published like <see cref="MemberJoinedEvent"/>.</summary>
public sealed record MemberLeftEvent(Guid ChatId, Guid UserId);

/// <summary>A chat was created. Published on <see cref="Channels.User"/> of every initial member.</summary>
public sealed record ChatCreatedEvent(Guid ChatId, Guid UserId, long LastSeq);

/// <summary>A device session was revoked. Published on <see cref="Channels.Revocations"/>.</summary>
public sealed record DeviceRevokedEvent(Guid UserId, Guid DeviceId, DateTimeOffset RevokedAt)
{
    /// <summary>
    /// When the last access token the device may hold expires: until then its tokens must be
    /// refused; after it they are refused anyway. Absent from events of older publishers.
    /// </summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>A member is typing (not stored). Published by a gateway on <see cref="Channels.Chat"/>.</summary>
public sealed record TypingEvent(Guid ChatId, Guid UserId);

/// <summary>
/// A user went from no open socket to one (or back), on all gateway replicas together. Published by a
/// gateway on <see cref="Channels.Presence"/> with the user's chats, so that every replica can tell
/// which of its sockets share a chat with the user.
/// </summary>
public sealed record PresenceChangedEvent(Guid UserId, bool Online, IReadOnlyList<Guid> ChatIds);

/// <summary>Source-generated serialization for every wire type: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(MessageCreatedEvent))]
[JsonSerializable(typeof(ReadUpdatedEvent))]
[JsonSerializable(typeof(MemberJoinedEvent))]
[JsonSerializable(typeof(MemberLeftEvent))]
[JsonSerializable(typeof(ChatCreatedEvent))]
[JsonSerializable(typeof(DeviceRevokedEvent))]
[JsonSerializable(typeof(TypingEvent))]
[JsonSerializable(typeof(PresenceChangedEvent))]
[JsonSerializable(typeof(SendBatchRequest))]
[JsonSerializable(typeof(SendBatchResponse))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
