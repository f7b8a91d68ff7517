using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;
using Yac.Gateway.Protocol;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Delivery;

/// <summary>
/// Turns Redis events (see docs/events.md) into pool commands, building each frame once. A
/// malformed or unknown event is logged and skipped: it never stops the subscriber.
/// </summary>
internal sealed partial class RedisEventReader(ILogger<RedisEventReader> logger)
{
    public PoolCommand? ReadChatEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.MessageCreated => data.Deserialize(ContractsJsonContext.Default.MessageCreatedEvent) is { } created
            ? ToArrived(envelope, created)
            : null,
        EventTypes.ReadUpdated => data.Deserialize(ContractsJsonContext.Default.ReadUpdatedEvent) is { } read
            ? new ChatBroadcast(read.ChatId, ServerFrames.Read(read.ChatId, read.UserId, read.Seq), ExceptUserId: null)
            : null,
        // The user concerned hears of it on their own channel (which also changes their subscriptions).
        EventTypes.MemberJoined => data.Deserialize(ContractsJsonContext.Default.MemberJoinedEvent) is { } joined
            ? new ChatBroadcast(joined.ChatId, ServerFrames.MemberJoined(joined.ChatId, joined.UserId), joined.UserId)
            : null,
        EventTypes.MemberLeft => data.Deserialize(ContractsJsonContext.Default.MemberLeftEvent) is { } left
            ? new ChatBroadcast(left.ChatId, ServerFrames.MemberLeft(left.ChatId, left.UserId), left.UserId)
            : null,
        EventTypes.Typing => data.Deserialize(ContractsJsonContext.Default.TypingEvent) is { } typing
            ? new ChatBroadcast(typing.ChatId, ServerFrames.Typing(typing.ChatId, typing.UserId), typing.UserId)
            : null,
        _ => null,
    });

    public PoolCommand? ReadUserEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.MemberJoined => data.Deserialize(ContractsJsonContext.Default.MemberJoinedEvent) is { } joined
            ? new UserJoinedChat(joined.UserId, joined.ChatId, joined.LastSeq)
            : null,
        EventTypes.ChatCreated => data.Deserialize(ContractsJsonContext.Default.ChatCreatedEvent) is { } created
            ? new UserJoinedChat(created.UserId, created.ChatId, created.LastSeq)
            : null,
        EventTypes.MemberLeft => data.Deserialize(ContractsJsonContext.Default.MemberLeftEvent) is { } left
            ? new UserLeftChat(left.UserId, left.ChatId)
            : null,
        _ => null,
    });

    public PoolCommand? ReadGlobalEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.DeviceRevoked => data.Deserialize(ContractsJsonContext.Default.DeviceRevokedEvent) is { } revoked
            ? new DeviceRevoked(revoked.UserId, revoked.DeviceId)
            : null,
        EventTypes.PresenceChanged => data.Deserialize(ContractsJsonContext.Default.PresenceChangedEvent) is { } presence
            ? new PresenceChanged(presence.UserId, ServerFrames.Presence(presence.UserId, presence.Online), presence.ChatIds ?? [])
            : null,
        _ => null,
    });

    /// <summary>A history message (same shape as the event) as a frame ready for sockets.</summary>
    public static PendingMessage ToPending(MessageCreatedEvent message) =>
        new(message.Seq, ServerFrames.Message(message), message.SentAt, default);

    /// <summary>
    /// The message's Consumer span on this replica, child of ChatService's publish span; each socket
    /// write of the message becomes its child in turn (see <see cref="Sockets.ClientConnection"/>).
    /// </summary>
    private static ChatMessageArrived ToArrived(EventEnvelope envelope, MessageCreatedEvent message)
    {
        using var activity = EventEnvelopeTracing.StartReceiveActivity(GatewayTelemetry.ActivitySource, Channels.Chat(message.ChatId), envelope);
        activity?.SetTag("yac.chat.id", message.ChatId.ToString("D"));
        activity?.SetTag("yac.message.seq", message.Seq);
        var trace = activity?.Context ?? (ActivityContext.TryParse(envelope.TraceParent, envelope.TraceState, isRemote: true, out var parent) ? parent : default);
        return new ChatMessageArrived(message.ChatId, new PendingMessage(message.Seq, ServerFrames.Message(message), message.SentAt, trace));
    }

    private PoolCommand? Read(ChannelMessage message, Func<EventEnvelope, JsonElement, PoolCommand?> toCommand)
    {
        try
        {
            var payload = (ReadOnlyMemory<byte>)message.Message;
            var envelope = JsonSerializer.Deserialize(payload.Span, ContractsJsonContext.Default.EventEnvelope);
            if (envelope is null || envelope.V != EventEnvelope.CurrentVersion)
            {
                LogSkipped(message.Channel.ToString(), envelope is null ? "no envelope" : $"envelope version {envelope.V}");
                return null;
            }

            return toCommand(envelope, envelope.Data);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            LogMalformed(message.Channel.ToString(), exception);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed event on {Channel}")]
    private partial void LogMalformed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an event on {Channel}: {Reason}")]
    private partial void LogSkipped(string channel, string reason);
}
