using System.ComponentModel.DataAnnotations;
using Yac.ServiceDefaults.Validation;

namespace Yac.ChatService.Messages;

/// <summary>
/// POST /api/chats/{chatId}/messages (and each send of the gateway's batch, checked with the same
/// attributes): nothing that breaks <see cref="TextRules"/> reaches the committer. <c>replyToSeq</c>: a
/// seq of the same chat (checked by the committer).
/// </summary>
public sealed record SendMessageRequest(
    [property: Required, ClientText(1, MessageLimits.ClientMsgIdMaxLength, Identifier = true)] string ClientMsgId,
    [property: Required, ClientText(1, MessageLimits.TextMaxLength)] string Text,
    [property: Range(1, long.MaxValue)] long? ReplyToSeq = null);

/// <summary>PATCH /api/chats/{chatId}/messages/{seq}: the new text, under the very rules of a sent one.</summary>
public sealed record EditMessageRequest([property: Required, ClientText(1, MessageLimits.TextMaxLength)] string Text);

/// <summary>POST /api/chats/{chatId}/read.</summary>
public sealed record MarkReadRequest([property: Required, Range(0, long.MaxValue)] long? Seq);

/// <summary>One emoji on a message: how many reacted with it and the first <see cref="ReactionRules.ListedUsers"/> of them, in the order they reacted.</summary>
public sealed record ReactionResponse(string Emoji, int Count, IReadOnlyList<Guid> UserIds);

/// <summary>
/// The contract's message (v1.1: <c>editedAt</c>, <c>deletedAt</c>, <c>replyToSeq</c>, <c>reactions</c>,
/// the emoji in the order they were first used). A tombstone has text "" and no reactions.
/// </summary>
public sealed record MessageResponse(
    Guid Id,
    Guid ChatId,
    long Seq,
    Guid SenderId,
    string Text,
    DateTime SentAt,
    string ClientMsgId,
    DateTime? EditedAt,
    DateTime? DeletedAt,
    long? ReplyToSeq,
    IReadOnlyList<ReactionResponse> Reactions)
{
    /// <summary><paramref name="reactions"/>: the message's, read with <see cref="MessageReactions"/> (none for a new message).</summary>
    public static MessageResponse From(Message message, IReadOnlyList<ReactionResponse>? reactions = null)
        => new(message.Id, message.ChatId, message.Seq, message.SenderId, message.Text, message.SentAt, message.ClientMsgId,
            message.EditedAt, message.DeletedAt, message.ReplyToSeq, reactions ?? []);
}

/// <summary>A page of history, ascending by seq.</summary>
public sealed record MessagePage(IReadOnlyList<MessageResponse> Messages, bool HasMore);

/// <summary>An earlier text of a message (<c>GET .../messages/{seq}/versions</c>), oldest first.</summary>
public sealed record MessageVersionResponse(int Version, string Text, DateTime WrittenAt);
