using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Chats;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Messages;

/// <summary><c>GET /api/search</c> through the gateway: only the caller's chats, never a tombstone.</summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class SearchTests(YacAppFixture fixture)
{
    [Fact]
    public async Task SearchFindsAWordOnlyInChatsTheCallerIsInNeverInOnesLeftOrNotJoinedAndNeverDeleted()
    {
        using var alice = await LifecycleClient.CreateAsync(fixture, "alice");
        using var bob = await LifecycleClient.CreateAsync(fixture, "bob");
        using var carol = await LifecycleClient.CreateAsync(fixture, "carol");
        var word = MessageLifecycleTests.UniqueWord();

        var shared = await alice.CreateGroupAsync("private", bob);
        var older = await bob.SendAsync(shared, $"first {word} here");
        var newer = await alice.SendAsync(shared, $"Second, {word.ToUpperInvariant()}!");
        var deleted = await alice.SendAsync(shared, $"deleted {word}");
        await LifecycleClient.ExpectAsync(alice.DeleteAsync(shared, deleted.Seq), HttpStatusCode.NoContent, "delete");
        await alice.SendAsync(shared, "nothing to find");

        var carolsOwn = await carol.CreateGroupAsync();
        await carol.SendAsync(carolsOwn, $"private {word}");
        var publicChat = await carol.CreateGroupAsync("public");
        await carol.SendAsync(publicChat, $"public {word}");
        var left = await carol.CreateGroupAsync("private", alice);
        await carol.SendAsync(left, $"left {word}");
        await LifecycleClient.ExpectAsync(alice.Http.DeleteAsync($"/api/chats/{left}/members/{alice.Id}"), HttpStatusCode.NoContent, "leave");

        // Newest first; case and punctuation do not matter (a word is a word).
        var found = await alice.SearchAsync(word);
        Assert.Equal([newer.Seq, older.Seq], found.Select(message => message.Seq));
        Assert.All(found, message => Assert.Equal(shared, message.ChatId));
        Assert.Equal($"Second, {word.ToUpperInvariant()}!", found[0].Text);
        Assert.Equal([newer.Seq, older.Seq], (await bob.SearchAsync(word)).Select(message => message.Seq));
        Assert.Equal([older.Seq], (await alice.SearchAsync($"\"first {word}\"")).Select(message => message.Seq));
        Assert.Equal([newer.Seq], (await alice.SearchAsync($"{word} -first")).Select(message => message.Seq));
        Assert.Empty(await alice.SearchAsync(word, carolsOwn));
        Assert.Empty(await alice.SearchAsync(word, publicChat));
        Assert.Empty(await alice.SearchAsync(word, left));
        Assert.Equal([newer.Seq, older.Seq], (await alice.SearchAsync(word, shared)).Select(message => message.Seq));
        // Carol's three chats (she still is in the one Alice left); none of the shared one.
        Assert.Equal(3, (await carol.SearchAsync(word)).Count);

        Assert.Single((await alice.Http.GetFromJsonAsync<SearchJson>($"/api/search?q={word}&limit=1", ChatUser.Json))!.Results);
        await ProblemAssert.IsValidationProblemAsync(await alice.Http.GetAsync("/api/search?q="), "q");
        await ProblemAssert.IsValidationProblemAsync(await alice.Http.GetAsync("/api/search?q=%20%20"), "q");
        await ProblemAssert.IsValidationProblemAsync(await alice.Http.GetAsync($"/api/search?q={word}&limit=101"), "limit");
        using var anonymous = fixture.CreateClient("gateway");
        using var refused = await anonymous.GetAsync($"/api/search?q={word}");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
