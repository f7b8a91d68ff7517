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
/// malformed, incomplete or unknown event is logged and skipped: it never stops the subscriber and
/// never takes the place of a real one.
/// </summary>
internal sealed partial class RedisEventReader(ILogger<RedisEventReader> logger)
{
    public PoolCommand? ReadChatEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.ChatChange => ToChange(envelope, data),
        EventTypes.ReadUpdated => data.Deserialize(ContractsJsonContext.Default.ReadUpdatedEvent) is { } read && Known(read.ChatId, read.UserId)
            ? new ChatBroadcast(read.ChatId, ServerFrames.Read(read.ChatId, read.UserId, read.Seq), ExceptUserId: null)
            : null,
        EventTypes.Typing => data.Deserialize(ContractsJsonContext.Default.TypingEvent) is { } typing && Known(typing.ChatId, typing.UserId)
            ? new ChatBroadcast(typing.ChatId, ServerFrames.Typing(typing.ChatId, typing.UserId), typing.UserId)
            : null,
        _ => null,
    });

    /// <summary>A user's channel carries the changes that made them a member: their gateways subscribe to the chat.</summary>
    public PoolCommand? ReadUserEvent(ChannelMessage message) => Read(message, static (envelope, data) => envelope.Type switch
    {
        EventTypes.ChatChange => data.Deserialize(ContractsJsonContext.Default.ChatChangeEvent) is
        { Type: ChatChange.MemberJoined, UserId: { } userId, Rev: > 0 } joined && Known(joined.ChatId, userId)
            ? new UserJoinedChat(userId, joined.ChatId, joined.Rev)
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

    private static bool Known(Guid chatId, Guid userId) => chatId != Guid.Empty && userId != Guid.Empty;

    /// <summary>
    /// The change's Consumer span on this replica, child of ChatService's publish span; each socket
    /// write of it becomes its child in turn (see <see cref="Sockets.ClientConnection"/>). The envelope's
    /// fields and the frame's must agree: an event whose frame says otherwise is refused.
    /// </summary>
    private static ChatChangeArrived? ToChange(EventEnvelope envelope, JsonElement data)
    {
        if (data.Deserialize(ContractsJsonContext.Default.ChatChangeEvent) is not { } changed || changed.ChatId == Guid.Empty)
        {
            return null;
        }

        var channel = Channels.Chat(changed.ChatId);
        using var activity = EventEnvelopeTracing.StartReceiveActivity(GatewayTelemetry.ActivitySource, channel, envelope);
        activity?.SetTag("yac.chat.id", changed.ChatId.ToString("D"));
        activity?.SetTag("yac.change.rev", changed.Rev);
        var trace = activity?.Context ?? (ActivityContext.TryParse(envelope.TraceParent, envelope.TraceState, isRemote: true, out var parent) ? parent : default);
        return ChangeParser.FromFrame(changed.Frame, trace) is { } change && change.Rev == changed.Rev && change.Type == changed.Type && change.UserId == changed.UserId
            ? new ChatChangeArrived(changed.ChatId, change)
            : null;
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

            return command;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            LogMalformed(message.Channel.ToString(), exception);
            return null;
        }
    }

    /// <summary>An event type as it may appear in a log line: a garbage publisher does not choose how long the line is.</summary>
    private static string Truncate(string? type) => type is null ? "" : type.Length <= 64 ? type : type[..64];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a malformed event on {Channel}")]
    private partial void LogMalformed(string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an event on {Channel}: {Reason}")]
    private partial void LogSkipped(string channel, string reason);
}
