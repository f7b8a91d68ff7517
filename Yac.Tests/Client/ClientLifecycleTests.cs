using Yac.Client;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Client;

/// <summary>Yac.Client's v1.1 REST (edit, delete, reactions, replies, search, chat settings), seen live by another client's session.</summary>
[Collection(YacAppCollection.Name)]
public sealed class ClientLifecycleTests(YacAppFixture fixture)
{
    [Fact]
    public async Task EditDeleteReactReplyRenameAndSearchThroughTheClientReachTheOtherSessionInRevOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var alice = await fixture.SignInClientAsync("alice", timeout.Token);
        using var bob = await fixture.SignInClientAsync("bob", timeout.Token);
        var chat = await alice.Client.CreateChatAsync(YacCreateChat.Group("Lifecycle", [bob.User.Id]), timeout.Token);
        await using var bobEvents = new ClientEventLog(await bob.Client.ConnectAsync(cancellationToken: timeout.Token));

        var word = "lifecycle" + Guid.NewGuid().ToString("N")[..8];
        var first = await alice.Client.SendMessageAsync(chat.Id, $"the {word} original", cancellationToken: timeout.Token);
        var reply = await bob.Client.ReplyAsync(chat.Id, first.Seq, "a reply", cancellationToken: timeout.Token);
        Assert.Equal(first.Seq, reply.ReplyToSeq);
        var edited = await alice.Client.EditMessageAsync(chat.Id, first.Seq, $"the {word} edited", timeout.Token);
        Assert.NotNull(edited.EditedAt);
        await bob.Client.AddReactionAsync(chat.Id, first.Seq, "👍", timeout.Token);
        await bob.Client.AddReactionAsync(chat.Id, first.Seq, "👍", timeout.Token); // idempotent
        await Assert.ThrowsAsync<YacForbiddenException>(() => bob.Client.EditMessageAsync(chat.Id, first.Seq, "not mine", timeout.Token));
        var renamed = await alice.Client.UpdateChatAsync(chat.Id, title: "Renamed", cancellationToken: timeout.Token);
        Assert.Equal("Renamed", renamed.Title);
        await Assert.ThrowsAsync<YacForbiddenException>(() => bob.Client.UpdateChatAsync(chat.Id, title: "Bob's", cancellationToken: timeout.Token));

        Assert.Equal([first.Seq], (await bob.Client.SearchAsync(word, chat.Id, cancellationToken: timeout.Token)).Select(message => message.Seq));
        await alice.Client.DeleteMessageAsync(chat.Id, first.Seq, timeout.Token);
        await alice.Client.DeleteMessageAsync(chat.Id, first.Seq, timeout.Token); // idempotent
        Assert.Empty(await bob.Client.SearchAsync(word, cancellationToken: timeout.Token));
        var history = await bob.Client.GetMessagesAsync(chat.Id, afterSeq: 0, cancellationToken: timeout.Token);
        Assert.Equal("", history.Messages[0].Text);
        Assert.NotNull(history.Messages[0].DeletedAt);

        // Bob's session: message, reply, edit, reaction, rename, delete: one change each, in rev order.
        await bobEvents.WaitUntilAsync(
            all => all.OfType<YacMessageUpdatedEvent>().Any(update => update.Message.DeletedAt is not null), TimeSpan.FromSeconds(20), "the delete", timeout.Token);
        var changes = bobEvents.Snapshot().OfType<YacChatChangeEvent>().Where(change => change.ChatId == chat.Id).ToList();
        Assert.Equal(
            ["message", "message", "edited", "reacted", "renamed", "deleted"],
            changes.Select(change => change switch
            {
                YacMessageEvent => "message",
                YacMessageUpdatedEvent { Message.DeletedAt: not null } => "deleted",
                YacMessageUpdatedEvent { Message.Reactions.Count: > 0 } => "reacted",
                YacMessageUpdatedEvent { Message.EditedAt: not null } => "edited",
                YacChatUpdatedEvent { Chat.Title: "Renamed" } => "renamed",
                _ => change.ToString(),
            }));
        var revs = changes.Select(change => change.Rev!.Value).ToList();
        Assert.Equal(revs.Order(), revs);
        Assert.Equal(revs.Count, revs.Distinct().Count());
    }
}
