using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

/// <summary>The contract's JSON shapes, as a client reads them.</summary>
public sealed record ChatJson(
    Guid Id, string Kind, string? Title, string Visibility, DateTime CreatedAt, Guid CreatedBy, long LastSeq, List<MemberJson> Members)
{
    public string? RoleOf(Guid userId) => Members.Find(member => member.UserId == userId)?.Role;
}

public sealed record MemberJson(Guid UserId, string Role, DateTime JoinedAt);

public sealed record MessageJson(Guid Id, Guid ChatId, long Seq, Guid SenderId, string Text, DateTime SentAt, string ClientMsgId);

public sealed record MessagePageJson(List<MessageJson> Messages, bool HasMore);

public sealed record ChatSummaryJson(
    Guid Id, string Kind, string? Title, string Visibility, long LastSeq, long LastReadSeq, long UnreadCount, MessageJson? LastMessage);

/// <summary>A registered, logged-in user with an HttpClient on ChatService that carries their token.</summary>
public sealed class ChatUser : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private ChatUser(Guid id, string accessToken, HttpClient chat)
    {
        Id = id;
        AccessToken = accessToken;
        Chat = chat;
    }

    public Guid Id { get; }

    public string AccessToken { get; }

    /// <summary>ChatService, with this user's bearer token.</summary>
    public HttpClient Chat { get; }

    public static async Task<ChatUser> CreateAsync(YacAppFixture fixture, string label = "user")
    {
        var user = await fixture.RegisterAndLoginAsync(label);
        return new ChatUser(user.Id, user.AccessToken, fixture.CreateClient("chat", user));
    }

    public static async Task<ChatUser[]> CreateManyAsync(YacAppFixture fixture, int count, string label = "user")
    {
        var users = new ChatUser[count];
        for (var index = 0; index < count; index++)
        {
            users[index] = await CreateAsync(fixture, $"{label}{index}");
        }

        return users;
    }

    /// <summary>An HttpClient with this user's token on another base address (e.g. one gateway replica).</summary>
    public HttpClient ClientFor(Uri baseAddress)
    {
        var client = TestHttp.Create(baseAddress);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        return client;
    }

    public Task<HttpResponseMessage> PostCreateChatAsync(object body) => Chat.PostAsJsonAsync("/api/chats", body, Json);

    public async Task<ChatJson> CreateGroupAsync(string visibility = "private", params ChatUser[] members)
    {
        using var response = await PostCreateChatAsync(new
        {
            kind = "group",
            title = $"group {Guid.NewGuid():N}"[..20],
            visibility,
            memberIds = members.Select(member => member.Id).ToArray(),
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ChatJson>(Json))!;
    }

    public async Task<ChatJson> GetChatAsync(Guid chatId)
    {
        using var response = await Chat.GetAsync($"/api/chats/{chatId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ChatJson>(Json))!;
    }

    public async Task<List<ChatSummaryJson>> ListChatsAsync()
    {
        using var response = await Chat.GetAsync("/api/chats");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<List<ChatSummaryJson>>(Json))!;
    }

    public Task<HttpResponseMessage> PostMessageAsync(Guid chatId, string clientMsgId, string text)
        => Chat.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId, text }, Json);

    /// <summary>Sends and asserts 201.</summary>
    public async Task<MessageJson> SendAsync(Guid chatId, string text)
    {
        using var response = await PostMessageAsync(chatId, Guid.NewGuid().ToString("N"), text);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<MessageJson>(Json))!;
    }

    public async Task<MessagePageJson> GetHistoryAsync(Guid chatId, string query = "")
    {
        using var response = await Chat.GetAsync($"/api/chats/{chatId}/messages{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<MessagePageJson>(Json))!;
    }

    public Task<HttpResponseMessage> PutMemberAsync(Guid chatId, Guid userId) => Chat.PutAsync($"/api/chats/{chatId}/members/{userId}", null);

    public Task<HttpResponseMessage> DeleteMemberAsync(Guid chatId, Guid userId) => Chat.DeleteAsync($"/api/chats/{chatId}/members/{userId}");

    public Task<HttpResponseMessage> PutRoleAsync(Guid chatId, Guid userId, string role)
        => Chat.PutAsJsonAsync($"/api/chats/{chatId}/members/{userId}/role", new { role }, Json);

    public Task<HttpResponseMessage> PostReadAsync(Guid chatId, long seq)
        => Chat.PostAsJsonAsync($"/api/chats/{chatId}/read", new { seq }, Json);

    public void Dispose() => Chat.Dispose();
}
