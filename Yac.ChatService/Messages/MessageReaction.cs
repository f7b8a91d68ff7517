namespace Yac.ChatService.Messages;

/// <summary>One user's reaction with one emoji to one message: the key is all four, so a repeat is a no-op.</summary>
public sealed class MessageReaction
{
    public Guid ChatId { get; set; }

    public long Seq { get; set; }

    public required string Emoji { get; set; }

    public Guid UserId { get; set; }

    /// <summary>Orders the users of an emoji (and the emoji of a message) as they reacted.</summary>
    public DateTime ReactedAt { get; set; }
}
