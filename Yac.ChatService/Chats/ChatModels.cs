using System.ComponentModel.DataAnnotations;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;
using Yac.ServiceDefaults.Validation;

namespace Yac.ChatService.Chats;

/// <summary>POST /api/chats. Kind and visibility are strings so a wrong value is a field error, not an unreadable body.</summary>
public sealed record CreateChatRequest(
    [property: Required, AllowedValues("group", "direct")] string Kind,
    [property: ClientText(1, ChatLimits.TitleMaxLength)] string? Title,
    [property: AllowedValues("private", "public", null)] string? Visibility,
    [property: Required] IReadOnlyList<Guid>? MemberIds);

/// <summary>PATCH /api/chats/{chatId}: what is given changes, what is left out (or null) stays.</summary>
public sealed record UpdateChatRequest(
    [property: ClientText(1, ChatLimits.TitleMaxLength)] string? Title,
    [property: AllowedValues("private", "public", null)] string? Visibility);

/// <summary>The contract's limits on chats.</summary>
public static class ChatLimits
{
    public const int TitleMaxLength = 100;
}

/// <summary>The contract's chat.</summary>
public sealed record ChatResponse(
    Guid Id,
    ChatKind Kind,
    string? Title,
    ChatVisibility Visibility,
    DateTime CreatedAt,
    Guid CreatedBy,
    long LastSeq,
    IReadOnlyList<ChatMemberResponse> Members,
    long Rev)
{
    public static ChatResponse From(Chat chat) => new(
        chat.Id,
        chat.Kind,
        chat.Title,
        chat.Visibility,
        chat.CreatedAt,
        chat.CreatedBy,
        chat.LastSeq,
        [.. chat.Members
            .OrderBy(member => member.JoinedAt)
            .ThenBy(member => member.UserId)
            .Select(member => new ChatMemberResponse(member.UserId, member.Role, member.JoinedAt))],
        chat.Rev);
}

public sealed record ChatMemberResponse(Guid UserId, ChatRole Role, DateTime JoinedAt);

/// <summary>
/// The contract's chatSummary: one entry of "my chats". <c>rev</c>: the chat's latest change (v1.1);
/// <c>joinedRev</c> (YAC's addition): the change that made the caller a member, from which on they
/// receive every change.
/// </summary>
public sealed record ChatSummaryResponse(
    Guid Id,
    ChatKind Kind,
    string? Title,
    ChatVisibility Visibility,
    long LastSeq,
    long LastReadSeq,
    long UnreadCount,
    MessageResponse? LastMessage,
    long Rev,
    long JoinedRev);
