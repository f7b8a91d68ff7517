using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

/// <summary>
/// <c>POST /internal/messages/batch</c>, the gateways' way of sending (docs/api.md, "Internal"): one
/// request, each send answered as <c>POST /api/chats/{chatId}/messages</c> would answer it alone.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class SendBatchTests(YacAppFixture fixture)
{
    private const string BatchPath = "/internal/messages/batch";

    // Every send of the batch below but the two of "a1" (0 and 3), whose order may go either way.
    private static readonly int[] s_othersInOrder = [1, 2, 4, 5, 6, 7, 8, 9];

    [Fact]
    public async Task EachSendOfABatchIsAnsweredInOrderAsItsOwnRequestWouldBe()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        using var bob = await ChatUser.CreateAsync(fixture, "bob");
        using var carol = await ChatUser.CreateAsync(fixture, "carol");
        var chat = await alice.CreateGroupAsync("private", bob);
        var bobsPrivate = await bob.CreateGroupAsync("private");
        var bobsPublic = await bob.CreateGroupAsync("public");
        var earlier = await alice.SendAsync(chat.Id, "sent alone, before");

        using var http = fixture.CreateClient("chat");
        using var response = await http.PostAsJsonAsync(BatchPath, new
        {
            sends = new object[]
            {
                Send(alice, chat.Id, "a1", "from alice"),
                Send(bob, chat.Id, "b1", "from bob"),
                Send(alice, chat.Id, earlier.ClientMsgId, "a repeat of an earlier send"),
                Send(alice, chat.Id, "a1", "the same clientMsgId again, in the same batch"),
                new { accessToken = "not-a-token", chatId = chat.Id, clientMsgId = "x1", text = "who am I" },
                Send(alice, chat.Id, "a2", "   "),
                Send(carol, chat.Id, "c1", "not a member of a private chat"),
                Send(alice, bobsPrivate.Id, "a3", "not a member of a private chat either"),
                Send(carol, bobsPublic.Id, "c2", "not a member of a public chat"),
                Send(carol, Guid.NewGuid(), "c3", "no such chat"),
            },
        }, ChatUser.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<BatchResultsJson>(ChatUser.Json))!.Results;
        Assert.Equal(10, results.Count);
        // The two sends of "a1" go side by side: whichever the committer sees first is stored.
        Assert.Equal([201, 200], new[] { results[0].Status, results[3].Status }.OrderDescending());
        Assert.Equal([201, 200, 401, 400, 404, 404, 403, 404], s_othersInOrder.Select(index => results[index].Status));

        var aliceFirst = results[0].Status == 201 ? results[0].Message! : results[3].Message!;
        var bobFirst = results[1].Message!;
        Assert.Equal((alice.Id, "a1"), (aliceFirst.SenderId, aliceFirst.ClientMsgId));
        Assert.True(aliceFirst.Text is "from alice" or "the same clientMsgId again, in the same batch", aliceFirst.Text);
        Assert.Equal(("from bob", bob.Id), (bobFirst.Text, bobFirst.SenderId));
        Assert.Equal([2L, 3L], new[] { aliceFirst.Seq, bobFirst.Seq }.Order());
        Assert.Equal(earlier, results[2].Message);
        Assert.Equal(aliceFirst, results[0].Message);
        Assert.Equal(aliceFirst, results[3].Message);
        Assert.All(results.Skip(4), result => Assert.Null(result.Message));

        // Stored once each, exactly as answered.
        var history = await alice.GetHistoryAsync(chat.Id);
        Assert.Equal([earlier, .. new[] { aliceFirst, bobFirst }.OrderBy(message => message.Seq)], history.Messages);
        Assert.Empty((await bob.GetHistoryAsync(bobsPublic.Id)).Messages);
    }

    [Theory]
    [InlineData("""{"sends": []}""")]
    [InlineData("""{}""")]
    [InlineData("""{"sends": [null]}""")]
    [InlineData("""{"sends": [""")]
    public async Task AnEmptyOrUnreadableBatchIsA400ProblemNotA500(string body)
    {
        using var http = fixture.CreateClient("chat");
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(BatchPath, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheGatewayDoesNotExposeTheBatchEndpoint()
    {
        using var alice = await ChatUser.CreateAsync(fixture, "alice");
        var chat = await alice.CreateGroupAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var replica = (await fixture.GetGatewayReplicaUrlsAsync(timeout.Token))[0];
        using var http = TestHttp.Create(replica);

        using var response = await http.PostAsJsonAsync(
            BatchPath, new { sends = new[] { Send(alice, chat.Id, "through-the-gateway", "hello") } }, ChatUser.Json, timeout.Token);

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await alice.GetHistoryAsync(chat.Id)).Messages);
    }

    private static object Send(ChatUser user, Guid chatId, string clientMsgId, string text)
        => new { accessToken = user.AccessToken, chatId, clientMsgId, text };

    private sealed record BatchResultJson(int Status, MessageJson? Message);

    private sealed record BatchResultsJson(List<BatchResultJson> Results);
}
