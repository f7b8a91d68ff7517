using Yac.ChatService.Chats;
using Yac.ChatService.Infrastructure;

namespace Yac.ChatService.Messages;

/// <summary>The outcome of a send: stored now (201), stored before (200, idempotent retry), or refused.</summary>
public abstract record SendOutcome
{
    public sealed record Stored(Message Message) : SendOutcome;

    public sealed record AlreadyStored(Message Message) : SendOutcome;

    public sealed record Refused(ChatAccess? Access) : SendOutcome;
}

/// <summary>Sends a message through the group-committing <see cref="MessageCommitter"/>, and says why when it is refused.</summary>
public sealed class MessageStore(ChatDbContext db, MessageCommitter committer)
{
    public async Task<SendOutcome> SendAsync(Guid chatId, Guid senderId, SendMessageRequest request, CancellationToken cancellationToken)
        => await committer.CommitAsync(chatId, senderId, request, cancellationToken) switch
        {
            CommitOutcome.Stored(var message) => new SendOutcome.Stored(message),
            CommitOutcome.AlreadyStored(var original) => new SendOutcome.AlreadyStored(original),
            // Rare: tell "no such chat / private" (404) from "public, but not a member" (403).
            _ => new SendOutcome.Refused(await ChatAccess.FindAsync(db, chatId, senderId, cancellationToken)),
        };
}
