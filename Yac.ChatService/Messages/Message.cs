namespace Yac.ChatService.Messages;

/// <summary>A stored message. Its key is (chat, seq); (chat, sender, clientMsgId) is unique for idempotent retries.</summary>
public sealed class Message
{
    public Guid ChatId { get; set; }

    public long Seq { get; set; }

    public Guid Id { get; set; }

    public Guid SenderId { get; set; }

    public required string Text { get; set; }

    public DateTime SentAt { get; set; }

    public required string ClientMsgId { get; set; }
}
