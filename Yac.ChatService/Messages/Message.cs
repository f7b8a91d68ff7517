namespace Yac.ChatService.Messages;

/// <summary>
/// A stored message. Its key is (chat, seq); (chat, sender, clientMsgId) is unique for idempotent retries.
/// A deleted message stays as a tombstone (text emptied, <see cref="DeletedAt"/> set), so seqs stay gap-free:
/// every seq from 1 to the chat's last seq is a row.
/// </summary>
public sealed class Message
{
    public Guid ChatId { get; set; }

    public long Seq { get; set; }

    public Guid Id { get; set; }

    public Guid SenderId { get; set; }

    public required string Text { get; set; }

    public DateTime SentAt { get; set; }

    public required string ClientMsgId { get; set; }

    /// <summary>The rev of the change that created it (where a resume by seq starts in the chat's log).</summary>
    public long Rev { get; set; }

    /// <summary>When its text was last changed by its sender; null if never (and on a tombstone).</summary>
    public DateTime? EditedAt { get; set; }

    /// <summary>When it was deleted; its text is empty from then on.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>The seq of the message of the same chat it answers.</summary>
    public long? ReplyToSeq { get; set; }
}
