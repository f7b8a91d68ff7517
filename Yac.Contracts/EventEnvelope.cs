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
    /// <summary>A change of a chat's ordered log (<see cref="ChatChangeEvent"/>): messages, membership, chat updates.</summary>
    public const string ChatChange = "chat.change";
    public const string ReadUpdated = "read.updated";
    public const string DeviceRevoked = "device.revoked";
    public const string Typing = "typing";
    public const string PresenceChanged = "presence.changed";
}

/// <summary>A stored message as ChatService answers a batched send (see <see cref="BatchedSendResult"/>).</summary>
public sealed record MessageCreatedEvent(
    Guid ChatId,
    long Seq,
    Guid Id,
    Guid SenderId,
    string Text,
    DateTimeOffset SentAt,
    string ClientMsgId);

/// <summary>
/// One committed change of a chat's log, published from the log at least once and in rev order per
/// chat (see docs/events.md). <c>Frame</c> is the very frame sockets receive (its <c>type</c>,
/// <c>chatId</c> and <c>rev</c> included), the same object <c>GET /api/chats/{chatId}/changes</c> returns;
/// <c>Type</c>, <c>Rev</c>, <c>UserId</c> and <c>Seq</c> (of a message) repeat what a gateway needs to order it and apply membership
/// without parsing the frame. Published on
/// <see cref="Channels.Chat"/>; a <c>memberJoined</c> also on <see cref="Channels.User"/> of the member,
/// so that gateways with that user's sockets subscribe to the chat.
/// </summary>
public sealed record ChatChangeEvent(Guid ChatId, long Rev, string Type, Guid? UserId, long? Seq, JsonElement Frame);

/// <summary><c>GET /api/chats/{chatId}/changes</c>: changes ascending by rev, each the frame that announced it.</summary>
public sealed record ChangePage(IReadOnlyList<JsonElement> Changes, bool HasMore);

/// <summary>
/// <c>POST /internal/chats/revs</c> (gateway to ChatService): the latest rev of each chat, so a
/// gateway can tell in one call which of its chats moved on without it (a lost publish, a quiet chat).
/// </summary>
public sealed record ChatRevsRequest(IReadOnlyList<Guid>? ChatIds)
{
    /// <summary>Chats per request: a gateway asks about its local chats in pages of this.</summary>
    public const int MaxChatIds = 5000;
}

/// <summary>The latest rev of every chat asked for that exists.</summary>
public sealed record ChatRevsResponse(IReadOnlyDictionary<Guid, long> Revs);

/// <summary>A member's read position moved forward. Published on <see cref="Channels.Chat"/>.</summary>
public sealed record ReadUpdatedEvent(Guid ChatId, Guid UserId, long Seq);

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
[JsonSerializable(typeof(ChatChangeEvent))]
[JsonSerializable(typeof(ChangePage))]
[JsonSerializable(typeof(ChatRevsRequest))]
[JsonSerializable(typeof(ChatRevsResponse))]
[JsonSerializable(typeof(MessageCreatedEvent))]
[JsonSerializable(typeof(ReadUpdatedEvent))]
[JsonSerializable(typeof(DeviceRevokedEvent))]
[JsonSerializable(typeof(TypingEvent))]
[JsonSerializable(typeof(PresenceChangedEvent))]
[JsonSerializable(typeof(SendBatchRequest))]
[JsonSerializable(typeof(SendBatchResponse))]
public sealed partial class ContractsJsonContext : JsonSerializerContext;
