using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Messages;

/// <summary>The outcome of a send: stored now (201), stored before (200, idempotent retry), refused, or a reply to no message of the chat (400).</summary>
public abstract record SendOutcome
{
    public sealed record Stored(Message Message) : SendOutcome;

    public sealed record AlreadyStored(Message Message) : SendOutcome;

    public sealed record Refused(ChatAccess? Access) : SendOutcome;

    public sealed record InvalidReply : SendOutcome;
}

/// <summary>
/// Sends a message through the group-committing <see cref="MessageCommitter"/>, and says why when it is
/// refused. A singleton: the sends of one batched request run side by side, and only a refusal (rare)
/// needs a database context of its own.
/// </summary>
public sealed class MessageStore(MessageCommitter committer, IServiceScopeFactory scopes)
{
    public async Task<SendOutcome> SendAsync(Guid chatId, Guid senderId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        switch (await committer.CommitAsync(chatId, senderId, request, cancellationToken))
        {
            case CommitOutcome.Stored(var message):
                return new SendOutcome.Stored(message);
            case CommitOutcome.AlreadyStored(var original):
                return new SendOutcome.AlreadyStored(original);
            case CommitOutcome.InvalidReply:
                return new SendOutcome.InvalidReply();
            default:
                // Tell "no such chat / private" (404) from "public, but not a member" (403).
                await using (var scope = scopes.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
                    return new SendOutcome.Refused(await ChatAccess.FindAsync(db, chatId, senderId, cancellationToken));
                }
        }
    }
}
