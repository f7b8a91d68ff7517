using System.Diagnostics;
using System.Text.Json;
using Yac.Contracts;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Events;

/// <summary>Builds the events of docs/events.md: which type goes on which channels.</summary>
public static class ChatEvents
{
    private static ActivityContext Cause => Activity.Current?.Context ?? default;

    /// <summary>A committed message; <paramref name="cause"/> is the send's activity (the commit ran in a background batch).</summary>
    public static OutgoingEvent MessageCreated(Message message, ActivityContext cause) => new(
        [Channels.Chat(message.ChatId)],
        EventTypes.MessageCreated,
        JsonSerializer.SerializeToElement(ToContract(message), ContractsJsonContext.Default.MessageCreatedEvent),
        cause);

    /// <summary>A stored message in the contract's shape (events, and the results of batched sends).</summary>
    public static MessageCreatedEvent ToContract(Message message)
        => new(message.ChatId, message.Seq, message.Id, message.SenderId, message.Text, new DateTimeOffset(message.SentAt, TimeSpan.Zero), message.ClientMsgId);

    public static OutgoingEvent ReadUpdated(Guid chatId, Guid userId, long seq) => new(
        [Channels.Chat(chatId)],
        EventTypes.ReadUpdated,
        JsonSerializer.SerializeToElement(new ReadUpdatedEvent(chatId, userId, seq), ContractsJsonContext.Default.ReadUpdatedEvent),
        Cause);

    /// <summary>On the chat's channel for the members already there, and on the user's own channel so their gateways subscribe.</summary>
    public static OutgoingEvent MemberJoined(Guid chatId, Guid userId, long lastSeq) => new(
        [Channels.Chat(chatId), Channels.User(userId)],
        EventTypes.MemberJoined,
        JsonSerializer.SerializeToElement(new MemberJoinedEvent(chatId, userId, lastSeq), ContractsJsonContext.Default.MemberJoinedEvent),
        Cause);

    /// <summary>On the chat's channel and the user's own channel so their gateways stop delivering the chat.</summary>
    public static OutgoingEvent MemberLeft(Guid chatId, Guid userId) => new(
        [Channels.Chat(chatId), Channels.User(userId)],
        EventTypes.MemberLeft,
        JsonSerializer.SerializeToElement(new MemberLeftEvent(chatId, userId), ContractsJsonContext.Default.MemberLeftEvent),
        Cause);

    /// <summary>
    /// One event per initial member, on that member's channel (so their gateways subscribe to the new
    /// chat); the creator's event also goes on the chat's channel.
    /// </summary>
    public static IEnumerable<OutgoingEvent> ChatCreated(Guid chatId, Guid createdBy, IEnumerable<Guid> memberIds) =>
        memberIds.Select(userId => new OutgoingEvent(
            userId == createdBy ? [Channels.User(userId), Channels.Chat(chatId)] : [Channels.User(userId)],
            EventTypes.ChatCreated,
            JsonSerializer.SerializeToElement(new ChatCreatedEvent(chatId, userId, 0), ContractsJsonContext.Default.ChatCreatedEvent),
            Cause));
}
