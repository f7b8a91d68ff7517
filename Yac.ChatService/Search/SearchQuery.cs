using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Search;

/// <summary>
/// Full-text search over the caller's chats: <c>websearch_to_tsquery('simple', q)</c> against the
/// generated <c>messages.search_vector</c>, whose GIN index finds the matching rows; the join on
/// <c>chat_members</c> keeps only the caller's chats inside the query itself (a chat they left has no
/// row there any more), and tombstones (empty text, so an empty vector) are excluded explicitly too.
/// Newest first. The cost grows with the number of messages that match the words, not with the number
/// stored.
/// </summary>
public static class SearchQuery
{
    public static IQueryable<Message> For(ChatDbContext db, Guid userId, string q, Guid? chatId, int limit)
        => (chatId is { } onlyChat
            ? db.Messages.FromSql($"""
                SELECT m.chat_id, m.seq, m.id, m.sender_id, m.text, m.sent_at, m.client_msg_id, m.rev, m.edited_at, m.deleted_at, m.reply_to_seq
                FROM messages m
                JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = {userId}
                WHERE m.search_vector @@ websearch_to_tsquery('simple', {q}) AND m.deleted_at IS NULL AND m.chat_id = {onlyChat}
                ORDER BY m.sent_at DESC, m.seq DESC
                LIMIT {limit}
                """)
            : db.Messages.FromSql($"""
                SELECT m.chat_id, m.seq, m.id, m.sender_id, m.text, m.sent_at, m.client_msg_id, m.rev, m.edited_at, m.deleted_at, m.reply_to_seq
                FROM messages m
                JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = {userId}
                WHERE m.search_vector @@ websearch_to_tsquery('simple', {q}) AND m.deleted_at IS NULL
                ORDER BY m.sent_at DESC, m.chat_id, m.seq DESC
                LIMIT {limit}
                """))
            .AsNoTracking();
}
