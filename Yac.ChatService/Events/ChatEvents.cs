using System.Diagnostics;
using System.Text.Json;
using Yac.Contracts;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Events;

/// <summary>
/// Builds the events of docs/events.md that are not changes of a chat's log (those are published by
/// <see cref="Changes.ChangePublisher"/>): read positions.
/// </summary>
public static class ChatEvents
{
    private static ActivityContext Cause => Activity.Current?.Context ?? default;

    /// <summary>A stored message in the contract's shape (events, and the results of batched sends).</summary>
    public static MessageCreatedEvent ToContract(Message message)
        => new(message.ChatId, message.Seq, message.Id, message.SenderId, message.Text, new DateTimeOffset(message.SentAt, TimeSpan.Zero), message.ClientMsgId);

    public static OutgoingEvent ReadUpdated(Guid chatId, Guid userId, long seq) => new(
        [Channels.Chat(chatId)],
        EventTypes.ReadUpdated,
        JsonSerializer.SerializeToElement(new ReadUpdatedEvent(chatId, userId, seq), ContractsJsonContext.Default.ReadUpdatedEvent),
        Cause);
}
