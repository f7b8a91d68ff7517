using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Chats;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Messages;

/// <summary>The v1.1 message as a client reads it.</summary>
public sealed record LifecycleMessageJson(
    Guid Id,
    Guid ChatId,
    long Seq,
    Guid SenderId,
    string Text,
    DateTime SentAt,
    string ClientMsgId,
    DateTime? EditedAt,
    DateTime? DeletedAt,
    long? ReplyToSeq,
    List<ReactionJson> Reactions);

public sealed record ReactionJson(string Emoji, int Count, List<Guid> UserIds);

public sealed record LifecyclePageJson(List<LifecycleMessageJson> Messages, bool HasMore);

public sealed record SearchJson(List<LifecycleMessageJson> Results);

/// <summary>A user's REST calls of the message lifecycle, through the gateway (its proxy included), as a client makes them.</summary>
public sealed class LifecycleClient(HttpClient http, TestUser user) : IDisposable
{
    public static async Task<LifecycleClient> CreateAsync(YacAppFixture fixture, string label)
    {
        var user = await fixture.RegisterAndLoginAsync(label);
        return new LifecycleClient(fixture.CreateClient("gateway", user), user);
    }

    public static async Task<LifecycleClient[]> CreateManyAsync(YacAppFixture fixture, int count, string label)
    {
        var clients = new LifecycleClient[count];
        for (var index = 0; index < count; index++)
        {
            clients[index] = await CreateAsync(fixture, $"{label}{index}");
        }

        return clients;
    }

    public TestUser User => user;

    public Guid Id => user.Id;

    public HttpClient Http => http;

    public async Task<Guid> CreateGroupAsync(string visibility = "private", params LifecycleClient[] members)
    {
        using var response = await http.PostAsJsonAsync("/api/chats", new
        {
            kind = "group",
            title = $"lifecycle {Guid.NewGuid():N}"[..20],
            visibility,
            memberIds = members.Select(member => member.Id).ToArray(),
        });
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.Created, "create chat");
        using var chat = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return chat.RootElement.GetProperty("id").GetGuid();
    }

    public Task<HttpResponseMessage> PostMessageAsync(Guid chatId, string text, long? replyToSeq = null)
        => http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId = Guid.NewGuid().ToString("N"), text, replyToSeq }, ChatUser.Json);

    public async Task<LifecycleMessageJson> SendAsync(Guid chatId, string text, long? replyToSeq = null)
    {
        using var response = await PostMessageAsync(chatId, text, replyToSeq);
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.Created, "send");
        return (await response.Content.ReadFromJsonAsync<LifecycleMessageJson>(ChatUser.Json))!;
    }

    public Task<HttpResponseMessage> EditAsync(Guid chatId, long seq, string text)
        => http.PatchAsJsonAsync($"/api/chats/{chatId}/messages/{seq}", new { text }, ChatUser.Json);

    public Task<HttpResponseMessage> DeleteAsync(Guid chatId, long seq) => http.DeleteAsync($"/api/chats/{chatId}/messages/{seq}");

    public Task<HttpResponseMessage> ReactAsync(Guid chatId, long seq, string emoji)
        => http.PutAsync($"/api/chats/{chatId}/messages/{seq}/reactions/{Uri.EscapeDataString(emoji)}", content: null);

    public Task<HttpResponseMessage> UnreactAsync(Guid chatId, long seq, string emoji)
        => http.DeleteAsync($"/api/chats/{chatId}/messages/{seq}/reactions/{Uri.EscapeDataString(emoji)}");

    /// <summary>Asserts <paramref name="expected"/> for a call that answers no body on success.</summary>
    public static async Task ExpectAsync(Task<HttpResponseMessage> call, HttpStatusCode expected, string what)
    {
        using var response = await call;
        await TestUsers.EnsureStatusAsync(response, expected, what);
    }

    public async Task<LifecyclePageJson> HistoryAsync(Guid chatId, string query = "")
        => await GetAsync<LifecyclePageJson>($"/api/chats/{chatId}/messages{query}");

    public async Task<LifecycleMessageJson> MessageAsync(Guid chatId, long seq)
        => (await HistoryAsync(chatId, $"?afterSeq={seq - 1}&limit=1")).Messages.Single();

    public async Task<List<LifecycleMessageJson>> SearchAsync(string q, Guid? chatId = null)
        => (await GetAsync<SearchJson>($"/api/search?q={Uri.EscapeDataString(q)}{(chatId is null ? "" : $"&chatId={chatId}")}")).Results;

    public async Task<List<JsonElement>> ChangesAsync(Guid chatId, long afterRev)
    {
        using var page = JsonDocument.Parse(await GetStringAsync($"/api/chats/{chatId}/changes?afterRev={afterRev}&limit=500"));
        Assert.False(page.RootElement.GetProperty("hasMore").GetBoolean());
        return [.. page.RootElement.GetProperty("changes").EnumerateArray().Select(change => change.Clone())];
    }

    /// <summary>The chat's latest rev.</summary>
    public async Task<long> RevAsync(Guid chatId)
    {
        using var chat = JsonDocument.Parse(await GetStringAsync($"/api/chats/{chatId}"));
        return chat.RootElement.GetProperty("rev").GetInt64();
    }

    private async Task<T> GetAsync<T>(string path)
        => JsonSerializer.Deserialize<T>(await GetStringAsync(path), ChatUser.Json)!;

    private async Task<string> GetStringAsync(string path)
    {
        using var response = await http.GetAsync(path);
        await TestUsers.EnsureStatusAsync(response, HttpStatusCode.OK, $"GET {path}");
        return await response.Content.ReadAsStringAsync();
    }

    public void Dispose() => http.Dispose();
}
