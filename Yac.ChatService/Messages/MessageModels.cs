using System.ComponentModel.DataAnnotations;

namespace Yac.ChatService.Messages;

/// <summary>POST /api/chats/{chatId}/messages.</summary>
public sealed record SendMessageRequest(
    [property: Required, StringLength(MessageLimits.ClientMsgIdMaxLength, MinimumLength = 1)] string ClientMsgId,
    [property: Required(AllowEmptyStrings = false), StringLength(MessageLimits.TextMaxLength, MinimumLength = 1)] string Text);

/// <summary>POST /api/chats/{chatId}/read.</summary>
public sealed record MarkReadRequest([property: Required, Range(0, long.MaxValue)] long? Seq);

/// <summary>The contract's message.</summary>
public sealed record MessageResponse(Guid Id, Guid ChatId, long Seq, Guid SenderId, string Text, DateTime SentAt, string ClientMsgId)
{
    public static MessageResponse From(Message message)
        => new(message.Id, message.ChatId, message.Seq, message.SenderId, message.Text, message.SentAt, message.ClientMsgId);
}

/// <summary>A page of history, ascending by seq.</summary>
public sealed record MessagePage(IReadOnlyList<MessageResponse> Messages, bool HasMore);
