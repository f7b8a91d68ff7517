using System.Text.Json.Serialization;

namespace Yac.ChatService.Membership;

[JsonConverter(typeof(JsonStringEnumConverter<ChatRole>))]
public enum ChatRole
{
    [JsonStringEnumMemberName("member")] Member,
    [JsonStringEnumMemberName("admin")] Admin,
    [JsonStringEnumMemberName("owner")] Owner,
}

/// <summary>A user's membership of a chat. Leaving deletes the row, so "is a member" is "has a row".</summary>
public sealed class ChatMember
{
    public Guid ChatId { get; set; }

    public Guid UserId { get; set; }

    public ChatRole Role { get; set; }

    public DateTime JoinedAt { get; set; }

    /// <summary>The rev of the change that made them a member: they receive every change from it on.</summary>
    public long JoinedRev { get; set; }

    /// <summary>Only ever moves forward (mark read, or sending a message).</summary>
    public long LastReadSeq { get; set; }
}
