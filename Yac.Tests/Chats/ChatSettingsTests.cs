using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Gateway;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

/// <summary><c>PATCH /api/chats/{chatId}</c>: a group's title and visibility, changed through the chat's log.</summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class ChatSettingsTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "ack", "read", "typing"];

    [Fact]
    public async Task TheOwnerRenamesAGroupAndEveryMembersSocketOnEitherReplicaGetsOneChatUpdatedInRevOrder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (first, second) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        await using var bobHere = await TestWebSocket.ConnectAsync(first, bob.AccessToken, timeout.Token);
        await using var bobThere = await TestWebSocket.ConnectAsync(second, bob.AccessToken, timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        await aliceHttp.SendOverRestAsync(chatId, "before", timeout.Token); // rev 3

        using var renamed = await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "Renamed", visibility = "public" }, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var chat = await renamed.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
        Assert.Equal("Renamed", chat.GetProperty("title").GetString());
        Assert.Equal("public", chat.GetProperty("visibility").GetString());
        Assert.Equal(4, chat.GetProperty("rev").GetInt64());
        await aliceHttp.SendOverRestAsync(chatId, "after", timeout.Token); // rev 5

        foreach (var socket in new[] { bobHere, bobThere })
        {
            Assert.Equal(3, (await socket.NextSkippingAsync("message", s_noise, timeout.Token)).GetProperty("rev").GetInt64());
            var updated = await socket.NextSkippingAsync("chatUpdated", s_noise, timeout.Token);
            Assert.Equal(chatId, updated.GetProperty("chatId").GetGuid());
            Assert.Equal(4, updated.GetProperty("rev").GetInt64());
            Assert.Equal("Renamed", updated.GetProperty("chat").GetProperty("title").GetString());
            Assert.Equal("public", updated.GetProperty("chat").GetProperty("visibility").GetString());
            Assert.Equal(5, (await socket.NextSkippingAsync("message", s_noise, timeout.Token)).GetProperty("rev").GetInt64());
        }

        // The log has it (for a resume); the chat shows it; the same change again changes nothing.
        using var bobHttp = fixture.CreateClient("gateway", bob);
        var changes = await bobHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}/changes?afterRev=3", timeout.Token);
        Assert.Equal(["chatUpdated", "message"], changes.GetProperty("changes").EnumerateArray().Select(change => change.Type()));
        Assert.Equal("Renamed", (await bobHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}", timeout.Token)).GetProperty("title").GetString());
        using var again = await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "Renamed" }, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(5, (await again.Content.ReadFromJsonAsync<JsonElement>(timeout.Token)).GetProperty("rev").GetInt64());
        var summary = (await bobHttp.GetFromJsonAsync<JsonElement>("/api/chats", timeout.Token)).EnumerateArray().Single(item => item.GetProperty("id").GetGuid() == chatId);
        Assert.Equal("Renamed", summary.GetProperty("title").GetString());
    }

    [Fact]
    public async Task OnlyAnOwnerOrAdminOfAGroupMayChangeItAndBadValuesAreValidationProblems()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var bob = await fixture.RegisterAndLoginAsync("bob", cancellationToken: timeout.Token);
        var carol = await fixture.RegisterAndLoginAsync("carol", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [bob], timeout.Token);
        using var aliceHttp = fixture.CreateClient("gateway", alice);
        using var bobHttp = fixture.CreateClient("gateway", bob);
        using var carolHttp = fixture.CreateClient("gateway", carol);

        // A plain member: 403; a stranger to a private group: 404, as for a chat that does not exist.
        await ProblemAssert.IsProblemAsync(await bobHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "Mine" }, timeout.Token), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await carolHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "Mine" }, timeout.Token), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{Guid.NewGuid()}", new { title = "None" }, timeout.Token), HttpStatusCode.NotFound);

        // An admin may.
        using (var promoted = await aliceHttp.PutAsJsonAsync($"/api/chats/{chatId}/members/{bob.Id}/role", new { role = "admin" }, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, promoted.StatusCode);
        }

        using (var byAdmin = await bobHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "By the admin" }, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        }

        // Bad values: 400 naming the field, and nothing changed.
        await ProblemAssert.IsValidationProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "" }, timeout.Token), "title");
        await ProblemAssert.IsValidationProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "   " }, timeout.Token), "title");
        await ProblemAssert.IsValidationProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = "a\u0000b" }, timeout.Token), "title");
        await ProblemAssert.IsValidationProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { title = new string('t', 101) }, timeout.Token), "title");
        await ProblemAssert.IsValidationProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{chatId}", new { visibility = "secret" }, timeout.Token), "visibility");
        using (var notJson = await aliceHttp.PatchAsync($"/api/chats/{chatId}", new StringContent("{", System.Text.Encoding.UTF8, "application/json"), timeout.Token))
        {
            await ProblemAssert.IsProblemAsync(notJson, HttpStatusCode.BadRequest);
        }

        Assert.Equal("By the admin", (await aliceHttp.GetFromJsonAsync<JsonElement>($"/api/chats/{chatId}", timeout.Token)).GetProperty("title").GetString());

        // A direct chat has no title to change: 400.
        using var direct = await aliceHttp.PostAsJsonAsync("/api/chats", new { kind = "direct", memberIds = new[] { carol.Id } }, timeout.Token);
        var directId = (await direct.Content.ReadFromJsonAsync<JsonElement>(timeout.Token)).GetProperty("id").GetGuid();
        await ProblemAssert.IsProblemAsync(await aliceHttp.PatchAsJsonAsync($"/api/chats/{directId}", new { title = "Us" }, timeout.Token), HttpStatusCode.BadRequest);
    }
}
