using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Chats;

/// <summary>One row of <c>GET /api/chats</c>: the chat, the caller's read position and the chat's last message.</summary>
public sealed record ChatListRow(
    Guid Id, ChatKind Kind, string? Title, ChatVisibility Visibility, long LastSeq, long LastReadSeq, Message? LastMessage, long Rev, long JoinedRev);

/// <summary>The caller's chats, most recently active first; every socket's connect runs it too.</summary>
public static class ChatListQuery
{
    /// <summary>
    /// The last message is joined on the messages' primary key (chat_id, seq): one index lookup per
    /// chat. A FirstOrDefault() in the projection became a ROW_NUMBER() over the whole messages
    /// table, which made this list, and so every connect, slower with every message ever stored.
    /// </summary>
    public static IQueryable<ChatListRow> For(ChatDbContext db, Guid userId)
        => from member in db.ChatMembers.AsNoTracking()
           where member.UserId == userId
           join chat in db.Chats on member.ChatId equals chat.Id
           join message in db.Messages on new { ChatId = chat.Id, Seq = chat.LastSeq } equals new { message.ChatId, message.Seq } into lastMessages
           from lastMessage in lastMessages.DefaultIfEmpty()
           orderby chat.LastActivityAt descending, chat.Id
           select new ChatListRow(chat.Id, chat.Kind, chat.Title, chat.Visibility, chat.LastSeq, member.LastReadSeq, lastMessage, chat.Rev, member.JoinedRev);
}
