using System.Text.Json.Serialization;

namespace Yac.ChatService.Chats;

[JsonConverter(typeof(JsonStringEnumConverter<ChatKind>))]
public enum ChatKind
{
    [JsonStringEnumMemberName("group")] Group,
    [JsonStringEnumMemberName("direct")] Direct,
}

[JsonConverter(typeof(JsonStringEnumConverter<ChatVisibility>))]
public enum ChatVisibility
{
    [JsonStringEnumMemberName("private")] Private,
    [JsonStringEnumMemberName("public")] Public,
}

/// <summary>A chat as stored. <see cref="LastSeq"/> is the per-chat message counter: the seq of the newest message.</summary>
public sealed class Chat
{
    public Guid Id { get; set; }

    public ChatKind Kind { get; set; }

    public string? Title { get; set; }

    public ChatVisibility Visibility { get; set; }

    public DateTime CreatedAt { get; set; }

    public Guid CreatedBy { get; set; }

    /// <summary>Bumped in the transaction that stores a message, so seqs are gap-free and unique.</summary>
    public long LastSeq { get; set; }

    /// <summary>
    /// The chat's change log position: the rev of its newest change (see <see cref="Changes.ChatChange"/>).
    /// Bumped in the transaction of every change, so revs are gap-free and unique.
    /// </summary>
    public long Rev { get; set; }

    /// <summary>
    /// Up to which rev the change publisher has put this chat's changes on Redis. Behind <see cref="Rev"/>
    /// means changes are waiting (a partial index finds such chats at once); never ahead of it.
    /// </summary>
    public long PublishedRev { get; set; }

    /// <summary>Creation or newest message: what "most recent activity first" sorts by.</summary>
    public DateTime LastActivityAt { get; set; }

    /// <summary>
    /// For direct chats only: the two user ids in a fixed order. A unique index on it makes "one
    /// direct chat per pair" hold even when both users create it at the same moment.
    /// </summary>
    public string? DirectKey { get; set; }

    public List<Membership.ChatMember> Members { get; set; } = [];

    public static string DirectKeyFor(Guid first, Guid second)
        => first.CompareTo(second) < 0 ? $"{first:N}:{second:N}" : $"{second:N}:{first:N}";
}
