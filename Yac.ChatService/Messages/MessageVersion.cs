namespace Yac.ChatService.Messages;

/// <summary>
/// A text a message had before an edit (version 1 is the text as sent). Readable by members until the
/// message is deleted: a delete removes its versions with its text.
/// </summary>
public sealed class MessageVersion
{
    public Guid ChatId { get; set; }

    public long Seq { get; set; }

    public int Version { get; set; }

    public required string Text { get; set; }

    /// <summary>When this text was written: the message's sentAt, or the edit that wrote it.</summary>
    public DateTime WrittenAt { get; set; }
}
