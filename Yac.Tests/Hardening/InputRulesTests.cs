using System.Net;
using System.Net.Http.Json;
using System.Text;
using Yac.Tests.Chats;
using Yac.Tests.Gateway;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Hardening;

/// <summary>The contract's v1.1 input rules, through the gateway as a client meets them.</summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class InputRulesTests(YacAppFixture fixture)
{
    private static readonly string[] s_noise = ["presence", "memberJoined"];

    [Fact]
    public async Task ATextWithNulIsA400OverRestAndBadRequestOverTheSocketAndIsNeverStored()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        using var rest = await http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId = "nul-rest", text = "a\u0000b" }, timeout.Token);
        await socket.SendAsync(new { type = "send", chatId, clientMsgId = "nul-socket", text = "a\u0000b" }, timeout.Token);
        var error = await socket.NextSkippingAsync("error", s_noise, timeout.Token);
        var seq = await http.SendOverRestAsync(chatId, "after the bad ones", timeout.Token);

        await ProblemAssert.IsValidationProblemAsync(rest, "text");
        Assert.Equal("bad_request", error.GetProperty("code").GetString());
        Assert.Equal("nul-socket", error.GetProperty("ref").GetString());
        Assert.Equal(1, seq);
    }

    [Fact]
    public async Task ALoneSurrogateIsA400OverRestAndAFrameWithOneGetsBadRequestWhileTheSocketStillAnswersPing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var (first, _) = await fixture.GetTwoReplicasAsync(timeout.Token);
        var alice = await fixture.RegisterAndLoginAsync("alice", cancellationToken: timeout.Token);
        var chatId = await fixture.CreateGroupAsync(alice, [], timeout.Token);
        using var http = fixture.CreateClient("gateway", alice);
        await using var socket = await TestWebSocket.ConnectAsync(first, alice.AccessToken, timeout.Token);

        using var rest = await http.PostAsync(
            $"/api/chats/{chatId}/messages",
            new StringContent("""{"clientMsgId":"lone","text":"a\ud800b"}""", Encoding.UTF8, "application/json"),
            timeout.Token);
        await socket.SendTextAsync("""{"type":"\ud800"}""", timeout.Token);
        var typeError = await socket.NextSkippingAsync("error", s_noise, timeout.Token);
        await socket.SendTextAsync($$"""{"type":"send","chatId":"{{chatId}}","clientMsgId":"lone","text":"a\udc00"}""", timeout.Token);
        var sendError = await socket.NextSkippingAsync("error", s_noise, timeout.Token);
        await socket.SendAsync(new { type = "ping", id = "still-there" }, timeout.Token);
        var pong = await socket.NextSkippingAsync("pong", s_noise, timeout.Token);

        await ProblemAssert.IsValidationProblemAsync(rest, "text");
        Assert.Equal("bad_request", typeError.GetProperty("code").GetString());
        Assert.Equal("bad_request", sendError.GetProperty("code").GetString());
        Assert.Equal("lone", sendError.GetProperty("ref").GetString());
        Assert.Equal("still-there", pong.GetProperty("id").GetString());
        Assert.False(socket.Closed.IsCompleted);
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("tab\u0000nul")]
    [InlineData("\u001b[2J")]
    public async Task AGroupTitleThatIsBlankOrHoldsControlCharactersIsA400(string title)
    {
        var alice = await fixture.RegisterAndLoginAsync("alice");
        using var http = fixture.CreateClient("gateway", alice);

        using var response = await http.PostAsJsonAsync("/api/chats", new { kind = "group", title, memberIds = Array.Empty<Guid>() });

        await ProblemAssert.IsValidationProblemAsync(response, "title");
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("\t\n")]
    [InlineData("nul\u0000name")]
    [InlineData("bell\u0007")]
    public async Task ADisplayNameThatIsBlankOrHoldsControlCharactersIsA400(string displayName)
    {
        using var http = fixture.CreateClient("gateway");

        using var response = await http.PostAsJsonAsync(
            "/api/users", new { username = TestUsers.UniqueUsername("named"), password = TestUsers.DefaultPassword, displayName });

        await ProblemAssert.IsValidationProblemAsync(response, "displayName");
    }

    [Fact]
    public async Task ADisplayNameOf64EmojiIs64CharactersAndAccepted()
    {
        using var http = fixture.CreateClient("gateway");
        var displayName = string.Concat(Enumerable.Repeat("\U0001F600", 64));

        using var response = await http.PostAsJsonAsync(
            "/api/users", new { username = TestUsers.UniqueUsername("emoji"), password = TestUsers.DefaultPassword, displayName });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task ABodyFarLargerThanAnyValidOneIsA413Problem()
    {
        var alice = await fixture.RegisterAndLoginAsync("alice");
        var chatId = await fixture.CreateGroupAsync(alice, [], CancellationToken.None);
        using var http = fixture.CreateClient("gateway", alice);
        var text = new string('x', 1024 * 1024);

        using var response = await http.PostAsJsonAsync($"/api/chats/{chatId}/messages", new { clientMsgId = "huge", text });

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }
}
