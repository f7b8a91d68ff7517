using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;
using Yac.Contracts;
using Yac.Gateway.Protocol;
using Yac.Gateway.Telemetry;

namespace Yac.Gateway.Delivery;

/// <summary>
/// Turns Redis events (see docs/events.md) into pool commands, building each frame once. A
/// malformed, incomplete or unknown event is logged and skipped: it never stops the subscriber and
/// never takes the place of a real one.
/// </summary>
internal sealed partial class RedisEventReader(ILogger<RedisEventReader> logger)
{
    /// <summary>A well-formed event this channel carries that the gateway has no use for (not logged).</summary>
    private static readonly PoolCommand s_nothingToDo = new NothingToDo();

    public PoolCommand? ReadChatEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.MessageCreated => data.Deserialize(ContractsJsonContext.Default.MessageCreatedEvent) is { } created && IsComplete(created)
            ? ToArrived(envelope, created)
            : null,
        EventTypes.ReadUpdated => data.Deserialize(ContractsJsonContext.Default.ReadUpdatedEvent) is { } read && Known(read.ChatId, read.UserId)
            ? new ChatBroadcast(read.ChatId, ServerFrames.Read(read.ChatId, read.UserId, read.Seq), ExceptUserId: null)
            : null,
        // The user concerned hears of it on their own channel (which also changes their subscriptions).
        EventTypes.MemberJoined => data.Deserialize(ContractsJsonContext.Default.MemberJoinedEvent) is { } joined && Known(joined.ChatId, joined.UserId)
            ? new ChatBroadcast(joined.ChatId, ServerFrames.MemberJoined(joined.ChatId, joined.UserId), joined.UserId)
            : null,
        EventTypes.MemberLeft => data.Deserialize(ContractsJsonContext.Default.MemberLeftEvent) is { } left && Known(left.ChatId, left.UserId)
            ? new ChatBroadcast(left.ChatId, ServerFrames.MemberLeft(left.ChatId, left.UserId), left.UserId)
            : null,
        EventTypes.Typing => data.Deserialize(ContractsJsonContext.Default.TypingEvent) is { } typing && Known(typing.ChatId, typing.UserId)
            ? new ChatBroadcast(typing.ChatId, ServerFrames.Typing(typing.ChatId, typing.UserId), typing.UserId)
            : null,
        // Also published here for the creator; the gateway learns of new chats on the user channels.
        EventTypes.ChatCreated => s_nothingToDo,
        _ => null,
    });

    public PoolCommand? ReadUserEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.MemberJoined => data.Deserialize(ContractsJsonContext.Default.MemberJoinedEvent) is { } joined && Known(joined.ChatId, joined.UserId)
            ? new UserJoinedChat(joined.UserId, joined.ChatId, joined.LastSeq)
            : null,
        EventTypes.ChatCreated => data.Deserialize(ContractsJsonContext.Default.ChatCreatedEvent) is { } created && Known(created.ChatId, created.UserId)
            ? new UserJoinedChat(created.UserId, created.ChatId, created.LastSeq)
            : null,
        EventTypes.MemberLeft => data.Deserialize(ContractsJsonContext.Default.MemberLeftEvent) is { } left && Known(left.ChatId, left.UserId)
            ? new UserLeftChat(left.UserId, left.ChatId)
            : null,
        _ => null,
    });

    public PoolCommand? ReadGlobalEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.DeviceRevoked => data.Deserialize(ContractsJsonContext.Default.DeviceRevokedEvent) is { } revoked && revoked.DeviceId != Guid.Empty
            ? new DeviceRevoked(revoked.UserId, revoked.DeviceId)
            : null,
        EventTypes.PresenceChanged => data.Deserialize(ContractsJsonContext.Default.PresenceChangedEvent) is { } presence && presence.UserId != Guid.Empty
            ? new PresenceChanged(presence.UserId, ServerFrames.Presence(presence.UserId, presence.Online), presence.ChatIds ?? [])
            : null,
        _ => null,
    });

    /// <summary>
    /// Whether a message event has every field of the contract's <c>message</c>. The serializer fills a
    /// missing field with its default; such an event would otherwise take the seq of the real message
    /// (which then counts as a duplicate) and reach clients with holes in it.
    /// </summary>
    private static bool IsComplete(MessageCreatedEvent message) =>
        Known(message.ChatId, message.SenderId)
        && message.Id != Guid.Empty
        && message.Seq > 0
        && message.SentAt != default
        && message.Text is { Length: > 0 }
        && message.ClientMsgId is { Length: > 0 };

    private static bool Known(Guid chatId, Guid userId) => chatId != Guid.Empty && userId != Guid.Empty;

    /// <summary>A history message (same shape as the event) as a frame ready for sockets.</summary>
    public static PendingMessage ToPending(MessageCreatedEvent message) =>
        new(message.Seq, ServerFrames.Message(message), message.SentAt, default);

    private static ChatMessageArrived ToArrived(EventEnvelope envelope, MessageCreatedEvent message)
    {
        ActivityContext.TryParse(envelope.TraceParent, envelope.TraceState, isRemote: true, out var parent);
        using var activity = GatewayTelemetry.ActivitySource.StartActivity("yac:chat receive", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.operation.type", "receive");
        activity?.SetTag("messaging.destination.name", Channels.Chat(message.ChatId));
        activity?.SetTag("yac.chat.id", message.ChatId.ToString("D"));
        activity?.SetTag("yac.message.seq", message.Seq);
        var trace = activity?.Context ?? parent;
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

            var command = toCommand(envelope, envelope.Data);
            if (command is null)
            {
                LogSkipped(message.Channel.ToString(), $"type '{Truncate(envelope.Type)}' is not read here, or its data is incomplete");
            }

            return ReferenceEquals(command, s_nothingToDo) ? null : command;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            LogMalformed(message.Channel.ToString(), exception);
            return null;
        }
    }

    /// <summary>An event type as it may appear in a log line: a garbage publisher does not choose how long the line is.</summary>
    private static string Truncate(string? type) => type is null ? "" : type.Length <= 64 ? type : type[..64];

    private sealed record NothingToDo : PoolCommand;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed event on {Channel}")]
    private partial void LogMalformed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an event on {Channel}: {Reason}")]
    private partial void LogSkipped(string channel, string reason);
}
