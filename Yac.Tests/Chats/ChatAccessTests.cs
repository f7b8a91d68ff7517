using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

[Collection(YacServicesAppCollection.Name)]
public sealed class ChatAccessTests(YacAppFixture fixture)
{
    private static readonly string[] s_unreadableIds = ["not-a-guid"];

    [Fact]
    public async Task ANonMemberProbingAPrivateChatGetsTheSame404AsForARandomId()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var stranger = await ChatUser.CreateAsync(fixture, "stranger");
        var chat = await owner.CreateGroupAsync("private");
        await owner.SendAsync(chat.Id, "secret");

        foreach (var chatId in new[] { chat.Id, Guid.NewGuid() })
        {
            var probes = new Func<Task<HttpResponseMessage>>[]
            {
                () => stranger.Chat.GetAsync($"/api/chats/{chatId}"),
                () => stranger.Chat.GetAsync($"/api/chats/{chatId}/messages"),
                () => stranger.PostMessageAsync(chatId, "probe", "hello?"),
                () => stranger.PostReadAsync(chatId, 1),
                () => stranger.PutMemberAsync(chatId, stranger.Id),
                () => stranger.PutMemberAsync(chatId, owner.Id),
                () => stranger.DeleteMemberAsync(chatId, owner.Id),
                () => stranger.DeleteMemberAsync(chatId, stranger.Id),
            };
            foreach (var probe in probes)
            {
                using var response = await probe();
                var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
                Assert.Equal("Chat not found.", problem.GetProperty("detail").GetString());
            }
        }

        var unchanged = await owner.GetChatAsync(chat.Id);
        Assert.Equal((1L, 1), (unchanged.LastSeq, unchanged.Members.Count));
    }

    [Fact]
    public async Task APublicChatIsVisibleToAllButOnlyMembersReadAndPost()
    {
        using var owner = await ChatUser.CreateAsync(fixture, "owner");
        using var visitor = await ChatUser.CreateAsync(fixture, "visitor");
        var chat = await owner.CreateGroupAsync("public");

        var seen = await visitor.GetChatAsync(chat.Id);
        using var post = await visitor.PostMessageAsync(chat.Id, "x", "not yet a member");
        using var history = await visitor.Chat.GetAsync($"/api/chats/{chat.Id}/messages");

        Assert.Equal(("public", owner.Id), (seen.Visibility, seen.CreatedBy));
        await ProblemAssert.IsProblemAsync(post, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(history, HttpStatusCode.Forbidden);
        Assert.DoesNotContain(await visitor.ListChatsAsync(), summary => summary.Id == chat.Id);
    }

    [Fact]
    public async Task CallsWithoutAValidTokenAreUnauthorized()
    {
        using var anonymous = fixture.CreateClient("chat");
        using var forged = fixture.CreateClient("chat");
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "not.a.token");

        using var list = await anonymous.GetAsync("/api/chats");
        using var send = await anonymous.PostAsJsonAsync($"/api/chats/{Guid.NewGuid()}/messages", new { clientMsgId = "a", text = "b" });
        using var forgedList = await forged.GetAsync("/api/chats");

        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, send.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forgedList.StatusCode);
    }

    [Fact]
    public async Task BadMessagesAreRejectedWithFieldErrorsAndNothingIsStored()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();
        var messages = $"/api/chats/{chat.Id}/messages";

        await ExpectFieldErrorAsync(alice.PostMessageAsync(chat.Id, "a", new string('x', 4001)), "text");
        await ExpectFieldErrorAsync(alice.PostMessageAsync(chat.Id, "b", ""), "text");
        await ExpectFieldErrorAsync(alice.PostMessageAsync(chat.Id, "c", "   "), "text");
        await ExpectFieldErrorAsync(alice.PostMessageAsync(chat.Id, "", "text"), "clientMsgId");
        await ExpectFieldErrorAsync(alice.PostMessageAsync(chat.Id, new string('k', 65), "text"), "clientMsgId");
        await ExpectFieldErrorAsync(alice.Chat.PostAsJsonAsync(messages, new { text = "no clientMsgId" }), "clientMsgId");
        await ExpectBadRequestAsync(alice.Chat.PostAsync(messages, new StringContent("not json", Encoding.UTF8, "application/json")));
        await ExpectBadRequestAsync(alice.Chat.PostAsync(messages, new StringContent("{\"clientMsgId\":", Encoding.UTF8, "application/json")));
        await ExpectBadRequestAsync(alice.Chat.PostAsync(messages, new StringContent("[1,2]", Encoding.UTF8, "application/json")));
        using (var plainText = await alice.Chat.PostAsync(messages, new StringContent("hello", Encoding.UTF8, "text/plain")))
        {
            await ProblemAssert.IsProblemAsync(plainText, HttpStatusCode.UnsupportedMediaType);
        }

        await ExpectBadRequestAsync(alice.Chat.PostAsync($"/api/chats/not-a-guid/messages", JsonContent.Create(new { clientMsgId = "d", text = "t" })));

        using var ok = await alice.PostMessageAsync(chat.Id, "e", new string('x', 4000));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(1, (await alice.GetChatAsync(chat.Id)).LastSeq);
        Assert.Single((await alice.GetHistoryAsync(chat.Id)).Messages);
    }

    [Fact]
    public async Task UnknownJsonFieldsAreIgnored()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();

        using var response = await alice.Chat.PostAsJsonAsync($"/api/chats/{chat.Id}/messages", new { clientMsgId = "a", text = "hi", extra = 42 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("?limit=201", "limit")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?afterSeq=-1", "afterSeq")]
    [InlineData("?beforeSeq=0", "beforeSeq")]
    [InlineData("?afterSeq=10&beforeSeq=5", "beforeSeq")]
    public async Task BadHistoryCursorsAreRejectedWithFieldErrors(string query, string field)
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();

        await ExpectFieldErrorAsync(alice.Chat.GetAsync($"/api/chats/{chat.Id}/messages{query}"), field);
    }

    [Theory]
    [InlineData("?afterSeq=abc")]
    [InlineData("?limit=many")]
    [InlineData("?beforeSeq=1.5")]
    public async Task UnreadableHistoryCursorsAreBadRequests(string query)
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();

        await ExpectBadRequestAsync(alice.Chat.GetAsync($"/api/chats/{chat.Id}/messages{query}"));
    }

    [Fact]
    public async Task BadChatsAndReadsAreRejected()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();

        await ExpectFieldErrorAsync(alice.PostCreateChatAsync(new { kind = "channel", memberIds = Array.Empty<Guid>() }), "kind");
        await ExpectFieldErrorAsync(alice.PostCreateChatAsync(new { kind = "group", title = new string('t', 101), memberIds = Array.Empty<Guid>() }), "title");
        await ExpectFieldErrorAsync(alice.PostCreateChatAsync(new { kind = "group", visibility = "secret", memberIds = Array.Empty<Guid>() }), "visibility");
        await ExpectFieldErrorAsync(alice.PostCreateChatAsync(new { kind = "group" }), "memberIds");
        await ExpectBadRequestAsync(alice.PostCreateChatAsync(new { kind = "group", memberIds = s_unreadableIds }));
        await ExpectFieldErrorAsync(alice.Chat.PostAsJsonAsync($"/api/chats/{chat.Id}/read", new { seq = -1 }), "seq");
        await ExpectFieldErrorAsync(alice.Chat.PostAsJsonAsync($"/api/chats/{chat.Id}/read", new { }), "seq");
        await ExpectBadRequestAsync(alice.Chat.GetAsync("/api/chats/12345"));
        await ExpectBadRequestAsync(alice.Chat.PutAsync($"/api/chats/{chat.Id}/members/nobody", null));

        Assert.Single(await alice.ListChatsAsync());
    }

    private static async Task ExpectFieldErrorAsync(Task<HttpResponseMessage> call, string field)
    {
        using var response = await call;
        await ProblemAssert.IsValidationProblemAsync(response, field);
    }

    private static async Task ExpectBadRequestAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.NotEqual(JsonValueKind.Undefined, problem.ValueKind);
    }
}
