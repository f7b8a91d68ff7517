namespace Yac.Client;

/// <summary>A YAC user.</summary>
/// <param name="Id">The user's id.</param>
/// <param name="Username">The lower-case username.</param>
/// <param name="DisplayName">The name shown to others.</param>
/// <param name="CreatedAt">When the account was made.</param>
public sealed record YacUser(Guid Id, string Username, string DisplayName, DateTimeOffset CreatedAt);

/// <summary>Identity's token response: one device session's tokens.</summary>
/// <param name="AccessToken">The JWT that authenticates calls and sockets.</param>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="ExpiresIn">Seconds until <paramref name="AccessToken"/> expires, counted from the answer.</param>
/// <param name="RefreshToken">Spent by the next refresh, which returns a new one.</param>
/// <param name="UserId">The signed-in user.</param>
/// <param name="DeviceId">The device session (stays the same across refreshes).</param>
public sealed record YacTokens(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, Guid UserId, Guid DeviceId)
{
    /// <summary>Never prints the tokens.</summary>
    public override string ToString() => $"YacTokens {{ UserId = {UserId}, DeviceId = {DeviceId}, ExpiresIn = {ExpiresIn} }}";
}

/// <summary>A member of a chat.</summary>
/// <param name="UserId">The member.</param>
/// <param name="Role"><c>owner</c>, <c>admin</c> or <c>member</c>.</param>
/// <param name="JoinedAt">When they joined.</param>
public sealed record YacChatMember(Guid UserId, string Role, DateTimeOffset JoinedAt);

/// <summary>A chat with its members.</summary>
/// <param name="Id">The chat's id.</param>
/// <param name="Kind"><c>group</c> or <c>direct</c>.</param>
/// <param name="Title">The title (null for direct chats and untitled groups).</param>
/// <param name="Visibility"><c>private</c> or <c>public</c>.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="CreatedBy">Who made it.</param>
/// <param name="LastSeq">The seq of its newest message (0 when empty).</param>
/// <param name="Members">Its members, by join time.</param>
/// <param name="Rev">The chat's latest change (v1.1 servers; null from v1 servers).</param>
public sealed record YacChat(
    Guid Id, string Kind, string? Title, string Visibility, DateTimeOffset CreatedAt, Guid CreatedBy, long LastSeq,
    IReadOnlyList<YacChatMember> Members, long? Rev = null);

/// <summary>One chat of <see cref="YacClient.GetChatsAsync"/>.</summary>
/// <param name="Id">The chat's id.</param>
/// <param name="Kind"><c>group</c> or <c>direct</c>.</param>
/// <param name="Title">The title, if any.</param>
/// <param name="Visibility"><c>private</c> or <c>public</c>.</param>
/// <param name="LastSeq">The seq of its newest message.</param>
/// <param name="LastReadSeq">How far the caller has read.</param>
/// <param name="UnreadCount"><c>LastSeq - LastReadSeq</c>.</param>
/// <param name="LastMessage">Its newest message, null for an empty chat.</param>
/// <param name="Rev">The chat's latest change (v1.1 servers; null from v1 servers).</param>
public sealed record YacChatSummary(
    Guid Id, string Kind, string? Title, string Visibility, long LastSeq, long LastReadSeq, long UnreadCount,
    YacMessage? LastMessage, long? Rev = null);

/// <summary>A stored message.</summary>
/// <param name="Id">The message's id.</param>
/// <param name="ChatId">Its chat.</param>
/// <param name="Seq">Its position in the chat: from 1, gap-free.</param>
/// <param name="SenderId">Who sent it.</param>
/// <param name="Text">Its text (empty for a deleted message).</param>
/// <param name="SentAt">When it was stored.</param>
/// <param name="ClientMsgId">The sender's idempotency key.</param>
/// <param name="EditedAt">When it was last edited (v1.1).</param>
/// <param name="DeletedAt">When it was deleted (v1.1).</param>
/// <param name="ReplyToSeq">The seq it replies to (v1.1).</param>
/// <param name="Reactions">Its reactions (v1.1).</param>
public sealed record YacMessage(
    Guid Id, Guid ChatId, long Seq, Guid SenderId, string Text, DateTimeOffset SentAt, string ClientMsgId,
    DateTimeOffset? EditedAt = null, DateTimeOffset? DeletedAt = null, long? ReplyToSeq = null,
    IReadOnlyList<YacReaction>? Reactions = null);

/// <summary>One emoji's reactions on a message (v1.1).</summary>
/// <param name="Emoji">The emoji.</param>
/// <param name="Count">How many reacted with it.</param>
/// <param name="UserIds">Up to 20 of them, in the order they reacted.</param>
public sealed record YacReaction(string Emoji, int Count, IReadOnlyList<Guid> UserIds);

/// <summary>A page of history, ascending by seq.</summary>
/// <param name="Messages">The messages.</param>
/// <param name="HasMore">Whether more exist beyond the page (see the API's history cursors).</param>
public sealed record YacMessagePage(IReadOnlyList<YacMessage> Messages, bool HasMore);

/// <summary>How a chat is created: see <see cref="YacClient.CreateChatAsync"/>.</summary>
/// <param name="Kind"><c>group</c> or <c>direct</c>.</param>
/// <param name="MemberIds">The other members (exactly one for a direct chat).</param>
/// <param name="Title">A group's title.</param>
/// <param name="Visibility"><c>private</c> (default) or <c>public</c>.</param>
public sealed record YacCreateChat(string Kind, IReadOnlyList<Guid> MemberIds, string? Title = null, string? Visibility = null)
{
    /// <summary>A group chat.</summary>
    public static YacCreateChat Group(string? title, IEnumerable<Guid> memberIds, bool isPublic = false) =>
        new("group", [.. memberIds], title, isPublic ? "public" : "private");

    /// <summary>The direct chat with <paramref name="otherUserId"/> (the existing one, if there is one).</summary>
    public static YacCreateChat Direct(Guid otherUserId) => new("direct", [otherUserId]);
}
