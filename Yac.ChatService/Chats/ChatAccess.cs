using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Infrastructure;
using Yac.ChatService.Membership;

namespace Yac.ChatService.Chats;

/// <summary>
/// What the caller may see of one chat, read in one query: whether it exists, whether it is public,
/// and the caller's role in it (null when not a member).
/// </summary>
public sealed record ChatAccess(Guid ChatId, ChatKind Kind, ChatVisibility Visibility, long LastSeq, ChatRole? Role)
{
    public bool IsMember => Role is not null;

    /// <summary>Public chats are visible to everyone; private ones only to their members.</summary>
    public bool IsVisible => IsMember || Visibility == ChatVisibility.Public;

    public static async Task<ChatAccess?> FindAsync(ChatDbContext db, Guid chatId, Guid userId, CancellationToken cancellationToken)
        => await db.Chats
            .AsNoTracking()
            .Where(chat => chat.Id == chatId)
            .Select(chat => new ChatAccess(
                chat.Id,
                chat.Kind,
                chat.Visibility,
                chat.LastSeq,
                chat.Members.Where(member => member.UserId == userId).Select(member => (ChatRole?)member.Role).FirstOrDefault()))
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The one answer for "no such chat" and "a private chat you are not in": the same 404, so
    /// probing ids reveals nothing.
    /// </summary>
    public static ProblemHttpResult NotFound()
        => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: "Chat not found.");

    /// <summary>
    /// For a chat the caller may see but not use: a public chat they are not in (403), or else the
    /// same 404 as for a chat that does not exist.
    /// </summary>
    public static ProblemHttpResult Refused(ChatAccess? access, string reason)
        => access is { IsVisible: true } ? Forbidden(reason) : NotFound();

    public static ProblemHttpResult Forbidden(string reason)
        => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: reason);
}
