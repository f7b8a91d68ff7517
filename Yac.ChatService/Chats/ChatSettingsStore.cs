using Microsoft.EntityFrameworkCore;
using Yac.ChatService.Changes;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Chats;

/// <summary>
/// Changes a group's title and visibility. A change that changes something takes the chat's next rev
/// in the same transaction (<c>chatUpdated</c>), so every member's socket gets it in order with the
/// chat's other changes, and a resume or <c>GET .../changes</c> replays it.
/// </summary>
public sealed class ChatSettingsStore(ChatDbContext db, ChangePublisher publisher)
{
    /// <summary>Applies the new title and/or visibility (null: unchanged); returns the chat as it is afterwards, or null when it does not exist.</summary>
    public async Task<Chat?> UpdateAsync(Guid chatId, string? title, ChatVisibility? visibility, CancellationToken cancellationToken)
    {
        var cause = ChangeLog.Cause;
        var rev = await ChangeLog.InTransactionAsync(db, async token =>
        {
            if (await ChangeLog.LockAsync(db, chatId, token) is not { } current)
            {
                return (long?)null;
            }

            var chat = await db.Chats.AsNoTracking().Where(chat => chat.Id == chatId)
                .Select(chat => new { chat.Title, chat.Visibility }).SingleAsync(token);
            var newTitle = title ?? chat.Title;
            var newVisibility = visibility ?? chat.Visibility;
            if (newTitle == chat.Title && newVisibility == chat.Visibility)
            {
                return 0; // nothing changed: no change in the log
            }

            await db.Chats.Where(chat => chat.Id == chatId).ExecuteUpdateAsync(
                chat => chat.SetProperty(x => x.Title, newTitle).SetProperty(x => x.Visibility, newVisibility), token);
            await ChangeLog.AppendAsync(db, chatId, current + 1, ChangeTypes.ChatUpdated, seq: null, userId: null, cause, token);
            return current + 1;
        }, cancellationToken);

        if (rev is null)
        {
            return null;
        }

        var updated = await db.Chats.AsNoTracking().Include(chat => chat.Members).SingleAsync(chat => chat.Id == chatId, cancellationToken);
        if (rev is > 0 and var updatedRev)
        {
            // Rendered after the commit: if the chat changed again meanwhile, both frames show it as it is now.
            publisher.Committed([new CommittedChange(chatId, updatedRev, ChangeTypes.ChatUpdated, null, null,
                ChangeFrames.ChatUpdated(ChatResponse.From(updated), updatedRev), cause)]);
        }

        return updated;
    }
}
