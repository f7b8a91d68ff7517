using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Npgsql;
using Yac.Tests.Chats;
using Yac.Tests.Gateway;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Messages;

/// <summary>
/// Edits, deletes, reactions and replies through the real app: REST through the gateway's proxy,
/// frames on real sockets on both gateway replicas, and the rows in PostgreSQL.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class MessageLifecycleTests(YacAppFixture fixture)
{
    [Fact]
    public async Task AnEditReachesEachDeviceOfEveryMemberOnceAndOnlyItsSenderMayEditUntilItIsDeleted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        var bobPhone = await fixture.LoginAgainAsync(bob.User, "phone", timeout.Token);
        var chatId = await alice.CreateGroupAsync("private", bob);
        var sent = await alice.SendAsync(chatId, "the first take");

        await using var bobLaptopSocket = await TestWebSocket.ConnectAsync(first, bob.User.AccessToken, timeout.Token);
        await using var bobPhoneSocket = await TestWebSocket.ConnectAsync(second, bobPhone.AccessToken, timeout.Token);
        Assert.NotEqual(bobLaptopSocket.GatewayId, bobPhoneSocket.GatewayId);

        using (var edited = await alice.EditAsync(chatId, sent.Seq, "the second take"))
        {
            await TestUsers.EnsureStatusAsync(edited, HttpStatusCode.OK, "edit");
            var message = JsonSerializer.Deserialize<LifecycleMessageJson>(await edited.Content.ReadAsStringAsync(), ChatUser.Json)!;
            Assert.Equal(("the second take", sent.Id, sent.Seq, sent.SentAt), (message.Text, message.Id, message.Seq, message.SentAt));
            Assert.NotNull(message.EditedAt);
        }

        foreach (var socket in new[] { bobLaptopSocket, bobPhoneSocket })
        {
            var update = await socket.NextWhereAsync(frame => frame.Type() == "messageUpdated", timeout.Token);
            Assert.Equal(chatId, update.GetProperty("chatId").GetGuid());
            Assert.True(update.GetProperty("rev").GetInt64() > 0);
            var message = update.GetProperty("message");
            Assert.Equal(sent.Seq, message.Seq());
            Assert.Equal("the second take", message.GetProperty("text").GetString());
            Assert.Equal(JsonValueKind.String, message.GetProperty("editedAt").ValueKind);
            Assert.Equal(JsonValueKind.Null, message.GetProperty("deletedAt").ValueKind);
            Assert.DoesNotContain(await socket.FramesUntilPongAsync(timeout.Token), frame => frame.Type() == "messageUpdated");
        }

        var shown = await bob.MessageAsync(chatId, sent.Seq);
        Assert.Equal("the second take", shown.Text);
        Assert.NotNull(shown.EditedAt);

        // The earlier text stays readable to members, until the message is deleted.
        using (var versions = JsonDocument.Parse(await bob.Http.GetStringAsync($"/api/chats/{chatId}/messages/{sent.Seq}/versions", timeout.Token)))
        {
            var only = Assert.Single(versions.RootElement.GetProperty("versions").EnumerateArray());
            Assert.Equal("the first take", only.GetProperty("text").GetString());
            Assert.Equal(sent.SentAt, only.GetProperty("writtenAt").GetDateTime().ToUniversalTime());
        }

        await ProblemAssert.IsProblemAsync(await bob.EditAsync(chatId, sent.Seq, "not mine to change"), HttpStatusCode.Forbidden);
        await ProblemAssert.IsValidationProblemAsync(await alice.EditAsync(chatId, sent.Seq, ""), "text");
        await ProblemAssert.IsValidationProblemAsync(await alice.EditAsync(chatId, sent.Seq, new string('x', 4001)), "text");
        await ProblemAssert.IsProblemAsync(await alice.EditAsync(chatId, sent.Seq + 1, "no such message"), HttpStatusCode.NotFound);
        using var stranger = await LifecycleClient.CreateAsync(fixture, "stranger");
        await ProblemAssert.IsProblemAsync(await stranger.EditAsync(chatId, sent.Seq, "not my chat"), HttpStatusCode.NotFound);

        await LifecycleClient.ExpectAsync(alice.DeleteAsync(chatId, sent.Seq), HttpStatusCode.NoContent, "delete");
        await ProblemAssert.IsProblemAsync(await alice.EditAsync(chatId, sent.Seq, "too late"), HttpStatusCode.Conflict);
        Assert.Equal("", (await alice.MessageAsync(chatId, sent.Seq)).Text);
    }

    [Fact]
    public async Task ADeleteLeavesATombstoneWhoseTextIsGoneFromTheDatabaseAndFromSearch()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        var chatId = await alice.CreateGroupAsync("private", bob);
        var word = UniqueWord();
        var kept = await alice.SendAsync(chatId, $"kept {word}");
        var doomed = await alice.SendAsync(chatId, $"regretted {word} at once");
        await LifecycleClient.ExpectAsync(bob.ReactAsync(chatId, doomed.Seq, "👍"), HttpStatusCode.NoContent, "react");
        await LifecycleClient.ExpectAsync(alice.EditAsync(chatId, doomed.Seq, $"regretted {word} twice"), HttpStatusCode.OK, "edit");
        Assert.Equal([doomed.Seq, kept.Seq], (await bob.SearchAsync(word)).Select(message => message.Seq));
        var revBefore = await alice.RevAsync(chatId);

        await LifecycleClient.ExpectAsync(alice.DeleteAsync(chatId, doomed.Seq), HttpStatusCode.NoContent, "delete");
        await LifecycleClient.ExpectAsync(alice.DeleteAsync(chatId, doomed.Seq), HttpStatusCode.NoContent, "delete again");

        var tombstone = await bob.MessageAsync(chatId, doomed.Seq);
        Assert.Equal((doomed.Id, doomed.SenderId, doomed.SentAt, doomed.ClientMsgId), (tombstone.Id, tombstone.SenderId, tombstone.SentAt, tombstone.ClientMsgId));
        Assert.Equal("", tombstone.Text);
        Assert.NotNull(tombstone.DeletedAt);
        Assert.Null(tombstone.EditedAt);
        Assert.Empty(tombstone.Reactions);

        // One change for the delete (the second was a no-op), announcing the tombstone.
        var change = Assert.Single(await bob.ChangesAsync(chatId, revBefore));
        Assert.Equal(("messageUpdated", revBefore + 1), (change.Type(), change.GetProperty("rev").GetInt64()));
        Assert.Equal("", change.GetProperty("message").GetProperty("text").GetString());

        // Emptied in the row itself, with its earlier version and its reactions.
        await using (var connection = new NpgsqlConnection(await fixture.App.GetConnectionStringAsync("chatdb", timeout.Token)))
        {
            await connection.OpenAsync(timeout.Token);
            await using var rows = new NpgsqlCommand(
                """
                SELECT m.text, m.deleted_at IS NOT NULL, m.search_vector = ''::tsvector,
                       (SELECT count(*) FROM message_reactions r WHERE r.chat_id = m.chat_id AND r.seq = m.seq),
                       (SELECT count(*) FROM message_versions v WHERE v.chat_id = m.chat_id AND v.seq = m.seq)
                FROM messages m WHERE m.chat_id = @chat_id AND m.seq = @seq
                """, connection);
            rows.Parameters.AddWithValue("chat_id", chatId);
            rows.Parameters.AddWithValue("seq", doomed.Seq);
            await using var reader = await rows.ExecuteReaderAsync(timeout.Token);
            Assert.True(await reader.ReadAsync(timeout.Token));
            Assert.Equal(("", true, true, 0L, 0L), (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        Assert.Equal([kept.Seq], (await bob.SearchAsync(word)).Select(message => message.Seq));
        Assert.Equal([kept.Seq], (await alice.SearchAsync("regretted or kept", chatId)).Select(message => message.Seq));
        await ProblemAssert.IsProblemAsync(await bob.ReactAsync(chatId, doomed.Seq, "👍"), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task AnAdminDeletesAMembersMessageInAGroupAndAPlainMemberCannot()
    {
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        using var carol = await LifecycleClient.CreateAsync(fixture, "carol");
        using var dan = await LifecycleClient.CreateAsync(fixture, "dan");
        var chatId = await alice.CreateGroupAsync("private", bob, carol, dan);
        using (var role = await alice.Http.PutAsJsonAsync($"/api/chats/{chatId}/members/{carol.Id}/role", new { role = "admin" }))
        {
            await TestUsers.EnsureStatusAsync(role, HttpStatusCode.NoContent, "make carol admin");
        }

        var bobs = await bob.SendAsync(chatId, "bob says");
        var alices = await alice.SendAsync(chatId, "alice says");
        var bobsSecond = await bob.SendAsync(chatId, "bob again");

        await ProblemAssert.IsProblemAsync(await dan.DeleteAsync(chatId, bobs.Seq), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await bob.DeleteAsync(chatId, alices.Seq), HttpStatusCode.Forbidden);
        await LifecycleClient.ExpectAsync(carol.DeleteAsync(chatId, bobs.Seq), HttpStatusCode.NoContent, "admin deletes");
        await LifecycleClient.ExpectAsync(alice.DeleteAsync(chatId, bobsSecond.Seq), HttpStatusCode.NoContent, "owner deletes");

        var page = await dan.HistoryAsync(chatId);
        Assert.Equal(["", "alice says", ""], page.Messages.Select(message => message.Text));
        Assert.Equal([true, false, true], page.Messages.Select(message => message.DeletedAt is not null));

        // In a direct chat nobody moderates: only the sender deletes.
        using var response = await alice.Http.PostAsJsonAsync("/api/chats", new { kind = "direct", memberIds = new[] { bob.Id } });
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.Created, "direct chat");
        using var directChat = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var directId = directChat.RootElement.GetProperty("id").GetGuid();
        var direct = await bob.SendAsync(directId, "between us");
        await ProblemAssert.IsProblemAsync(await alice.DeleteAsync(directId, direct.Seq), HttpStatusCode.Forbidden);
        await LifecycleClient.ExpectAsync(bob.DeleteAsync(directId, direct.Seq), HttpStatusCode.NoContent, "sender deletes");
    }

    [Fact]
    public async Task TenMembersReactingAtOnceCountTenEachOnceAndTheTwentyFirstEmojiIsRefused()
    {
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        var others = await LifecycleClient.CreateManyAsync(fixture, 9, "member");
        try
        {
            var chatId = await alice.CreateGroupAsync("private", others);
            var message = await alice.SendAsync(chatId, "react to me");
            var revBefore = await alice.RevAsync(chatId);
            LifecycleClient[] everyone = [alice, .. others];

            await Task.WhenAll(everyone.Select(member => LifecycleClient.ExpectAsync(member.ReactAsync(chatId, message.Seq, "👍"), HttpStatusCode.NoContent, "react")));
            await LifecycleClient.ExpectAsync(alice.ReactAsync(chatId, message.Seq, "👍"), HttpStatusCode.NoContent, "react again");

            var thumbs = Assert.Single((await alice.MessageAsync(chatId, message.Seq)).Reactions);
            Assert.Equal(("👍", 10), (thumbs.Emoji, thumbs.Count));
            Assert.Equal(everyone.Select(member => member.Id).Order(), thumbs.UserIds.Order());
            // Ten changes, one per reaction that changed something (the repeat logged nothing), each
            // read back showing the message as it is now.
            var changes = await alice.ChangesAsync(chatId, revBefore);
            Assert.Equal(Enumerable.Range(1, 10).Select(offset => revBefore + offset), changes.Select(change => change.GetProperty("rev").GetInt64()));
            Assert.All(changes, change => Assert.Equal(
                ("messageUpdated", 10), (change.Type(), change.GetProperty("message").GetProperty("reactions")[0].GetProperty("count").GetInt32())));

            // 19 more distinct emoji make 20; a 21st is refused, but adding to one that is there is not.
            var emoji = Enumerable.Range(0, 19).Select(index => char.ConvertFromUtf32(0x1F600 + index)).ToList();
            foreach (var face in emoji)
            {
                await LifecycleClient.ExpectAsync(others[0].ReactAsync(chatId, message.Seq, face), HttpStatusCode.NoContent, "react");
            }

            await ProblemAssert.IsValidationProblemAsync(await others[1].ReactAsync(chatId, message.Seq, "🦄"), "emoji");
            await LifecycleClient.ExpectAsync(others[1].ReactAsync(chatId, message.Seq, emoji[3]), HttpStatusCode.NoContent, "react with a present emoji");
            var reactions = (await alice.MessageAsync(chatId, message.Seq)).Reactions;
            Assert.Equal(["👍", .. emoji], reactions.Select(reaction => reaction.Emoji));
            Assert.Equal([others[0].Id, others[1].Id], reactions[4].UserIds);

            // Taking one back frees a place; taking it back twice is still 204.
            await LifecycleClient.ExpectAsync(others[0].UnreactAsync(chatId, message.Seq, emoji[0]), HttpStatusCode.NoContent, "unreact");
            await LifecycleClient.ExpectAsync(others[0].UnreactAsync(chatId, message.Seq, emoji[0]), HttpStatusCode.NoContent, "unreact again");
            await LifecycleClient.ExpectAsync(others[1].ReactAsync(chatId, message.Seq, "🦄"), HttpStatusCode.NoContent, "react in the freed place");

            await ProblemAssert.IsValidationProblemAsync(await alice.ReactAsync(chatId, message.Seq, "a b"), "emoji");
            await ProblemAssert.IsValidationProblemAsync(await alice.ReactAsync(chatId, message.Seq, new string('x', 33)), "emoji");
            using var stranger = await LifecycleClient.CreateAsync(fixture, "stranger");
            await ProblemAssert.IsProblemAsync(await stranger.ReactAsync(chatId, message.Seq, "👍"), HttpStatusCode.NotFound);
            await ProblemAssert.IsProblemAsync(await alice.ReactAsync(chatId, message.Seq + 1, "👍"), HttpStatusCode.NotFound);
        }
        finally
        {
            foreach (var other in others)
            {
                other.Dispose();
            }
        }
    }

    [Fact]
    public async Task ResumeWithRevsReplaysEveryEditDeleteAndReactionMadeWhileAwayInRevOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (_, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        var chatId = await alice.CreateGroupAsync("private", bob);
        var sent = new List<LifecycleMessageJson>();
        for (var index = 1; index <= 10; index++)
        {
            sent.Add(await alice.SendAsync(chatId, $"message {index}"));
        }

        // Bob saw everything up to here, then went away.
        var lastSeenRev = await bob.RevAsync(chatId);
        for (var index = 0; index < 3; index++)
        {
            await LifecycleClient.ExpectAsync(alice.EditAsync(chatId, sent[index].Seq, $"message {index + 1}, edited"), HttpStatusCode.OK, "edit");
        }

        for (var index = 3; index < 5; index++)
        {
            await LifecycleClient.ExpectAsync(alice.DeleteAsync(chatId, sent[index].Seq), HttpStatusCode.NoContent, "delete");
        }

        for (var index = 5; index < 10; index++)
        {
            await LifecycleClient.ExpectAsync(alice.ReactAsync(chatId, sent[index].Seq, "🎉"), HttpStatusCode.NoContent, "react");
        }

        await using var socket = await TestWebSocket.ConnectAsync(second, bob.User.AccessToken, timeout.Token);
        await socket.SendAsync(new { type = "resume", revs = new Dictionary<string, long> { [chatId.ToString()] = lastSeenRev } }, timeout.Token);
        var replayed = new List<JsonElement>();
        while (true)
        {
            replayed.Add(await socket.NextSkippingAsync("messageUpdated", ["presence"], timeout.Token));
            if (replayed.Count == 10)
            {
                break;
            }
        }

        var resumed = await socket.NextSkippingAsync("resumed", ["presence"], timeout.Token);
        Assert.Equal(lastSeenRev + 10, resumed.GetProperty("revs").GetProperty(chatId.ToString()).GetInt64());
        Assert.DoesNotContain(await socket.FramesUntilPongAsync(timeout.Token), frame => frame.Type() == "messageUpdated");

        Assert.Equal(Enumerable.Range(1, 10).Select(offset => lastSeenRev + offset), replayed.Select(frame => frame.GetProperty("rev").GetInt64()));
        Assert.Equal(sent.Select(message => message.Seq), replayed.Select(frame => frame.GetProperty("message").Seq()));
        var texts = replayed.Select(frame => frame.GetProperty("message").GetProperty("text").GetString()).ToList();
        Assert.Equal(["message 1, edited", "message 2, edited", "message 3, edited", "", "", "message 6", "message 7", "message 8", "message 9", "message 10"], texts);
        Assert.All(replayed.Skip(5), frame => Assert.Equal("🎉", frame.GetProperty("message").GetProperty("reactions")[0].GetProperty("emoji").GetString()));

        // GET .../changes answers the same changes, the same objects.
        var changes = await bob.ChangesAsync(chatId, lastSeenRev);
        Assert.Equal(replayed.Select(frame => frame.GetRawText()), changes.Select(change => change.GetRawText()));
    }

    [Fact]
    public async Task AReplyNamesASeqOfItsOwnChatOverRestAndTheSocketAndABadOneFailsOnlyItsOwnSend()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        var busy = await alice.CreateGroupAsync("private", bob);
        var quiet = await alice.CreateGroupAsync("private", bob);
        for (var index = 0; index < 3; index++)
        {
            await alice.SendAsync(busy, $"busy {index}");
        }

        var original = await alice.SendAsync(quiet, "the original");

        // Seq 3 exists in the busy chat, not in this one.
        await ProblemAssert.IsValidationProblemAsync(await bob.PostMessageAsync(quiet, "a reply to elsewhere", replyToSeq: 3), "replyToSeq");
        await ProblemAssert.IsValidationProblemAsync(await bob.PostMessageAsync(quiet, "a reply to nothing", replyToSeq: 0), "replyToSeq");
        var reply = await bob.SendAsync(quiet, "a reply", replyToSeq: original.Seq);
        Assert.Equal(original.Seq, reply.ReplyToSeq);
        Assert.Equal([null, original.Seq], (await alice.HistoryAsync(quiet)).Messages.Select(message => message.ReplyToSeq));

        await using var aliceSocket = await TestWebSocket.ConnectAsync(first, alice.User.AccessToken, timeout.Token);
        await using var bobSocket = await TestWebSocket.ConnectAsync(second, bob.User.AccessToken, timeout.Token);
        // A bad reply and a good one at the same moment: they may share a batch, and only the bad one fails.
        await Task.WhenAll(
            aliceSocket.SendAsync(new { type = "send", chatId = quiet, clientMsgId = "bad-reply", text = "to nowhere", replyToSeq = 99 }, timeout.Token),
            bobSocket.SendAsync(new { type = "send", chatId = quiet, clientMsgId = "good-reply", text = "to the original", replyToSeq = original.Seq }, timeout.Token));
        var ack = await bobSocket.NextWhereAsync(frame => frame.Type() is "error" or "ack", timeout.Token);
        Assert.Equal(("ack", "good-reply"), (ack.Type(), ack.GetProperty("clientMsgId").GetString()));
        // Alice gets her error and Bob's message, in either order.
        JsonElement? error = null, pushed = null;
        while (error is null || pushed is null)
        {
            var frame = await aliceSocket.NextAsync(timeout.Token);
            switch (frame.Type())
            {
                case "error" or "ack":
                    Assert.Null(error);
                    error = frame;
                    break;
                case "message":
                    Assert.Null(pushed);
                    pushed = frame;
                    break;
            }
        }

        Assert.Equal(("error", "bad_request", "bad-reply"), (error.Value.Type(), error.Value.GetProperty("code").GetString(), error.Value.GetProperty("ref").GetString()));
        Assert.Equal(("to the original", original.Seq), (pushed.Value.GetProperty("text").GetString(), pushed.Value.GetProperty("replyToSeq").GetInt64()));

        await aliceSocket.SendAsync(new { type = "send", chatId = quiet, clientMsgId = "not-a-seq", text = "x", replyToSeq = "one" }, timeout.Token);
        var malformed = await aliceSocket.NextWhereAsync(frame => frame.Type() == "error", timeout.Token);
        Assert.Equal(("bad_request", "not-a-seq"), (malformed.GetProperty("code").GetString(), malformed.GetProperty("ref").GetString()));
        Assert.Equal(3, (await alice.HistoryAsync(quiet)).Messages.Count);
    }

    /// <summary>A word no other test (and no other run) writes: one token of the 'simple' configuration.</summary>
    internal static string UniqueWord() => $"w{Guid.NewGuid():N}";
}
