using System.ComponentModel.DataAnnotations;
using Yac.ChatService.Membership;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Chats;

/// <summary>POST /api/chats. Kind and visibility are strings so a wrong value is a field error, not an unreadable body.</summary>
public sealed record CreateChatRequest(
    [property: Required, AllowedValues("group", "direct")] string Kind,
    [property: StringLength(100, MinimumLength = 1)] string? Title,
    [property: AllowedValues("private", "public", null)] string? Visibility,
    [property: Required] IReadOnlyList<Guid>? MemberIds);

/// <summary>The contract's chat.</summary>
public sealed record ChatResponse(
    Guid Id,
    ChatKind Kind,
    string? Title,
    ChatVisibility Visibility,
    DateTime CreatedAt,
    Guid CreatedBy,
    long LastSeq,
    IReadOnlyList<ChatMemberResponse> Members)
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
            .Select(member => new ChatMemberResponse(member.UserId, member.Role, member.JoinedAt))]);
}

public sealed record ChatMemberResponse(Guid UserId, ChatRole Role, DateTime JoinedAt);

/// <summary>The contract's chatSummary: one entry of "my chats".</summary>
public sealed record ChatSummaryResponse(
    Guid Id,
    ChatKind Kind,
    string? Title,
    ChatVisibility Visibility,
    long LastSeq,
    long LastReadSeq,
    long UnreadCount,
    MessageResponse? LastMessage);
