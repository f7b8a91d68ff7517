using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class LoginTests(YacAppFixture fixture)
{
    [Fact]
    public async Task LoginReturnsTheContractTokenResponse()
    {
        var user = await fixture.RegisterAndLoginAsync("login");
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/tokens", new { username = user.Username.ToUpperInvariant(), user.Password, deviceName = "phone" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("Bearer", root.GetProperty("tokenType").GetString());
        Assert.Equal(900, root.GetProperty("expiresIn").GetInt32());
        Assert.Equal(user.Id, root.GetProperty("userId").GetGuid());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("accessToken").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("refreshToken").GetString()));
        // Every login is a new device session.
        Assert.NotEqual(user.DeviceId, root.GetProperty("deviceId").GetGuid());
    }

    [Fact]
    public async Task WrongPasswordAndUnknownUserGetTheSameUnauthorizedAnswer()
    {
        var user = await fixture.RegisterAndLoginAsync("wrongpw");
        using var identity = fixture.CreateClient("identity");

        using var wrongPassword = await identity.PostAsJsonAsync("/api/tokens", new { username = user.Username, password = "not the password" });
        using var unknownUser = await identity.PostAsJsonAsync("/api/tokens", new { username = TestUsers.UniqueUsername("ghost"), password = "not the password" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        Assert.Equal("application/problem+json", wrongPassword.Content.Headers.ContentType?.MediaType);
        Assert.Equal("application/problem+json", unknownUser.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            WithoutTraceId(await wrongPassword.Content.ReadAsStringAsync()),
            WithoutTraceId(await unknownUser.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task MeAnswersTheSignedInUser()
    {
        var user = await fixture.RegisterAndLoginAsync("me");
        using var identity = fixture.CreateClient("identity", user);

        var me = await identity.GetFromJsonAsync<UserResponse>("/api/users/me");

        Assert.Equal(new UserResponse(user.Id, user.Username, user.DisplayName, me!.CreatedAt), me);
    }

    [Fact]
    public async Task UsersCanBeFoundByIdAndByUsernameInAnyCase()
    {
        var searcher = await fixture.RegisterAndLoginAsync("search");
        var target = await fixture.RegisterAndLoginAsync("target");
        using var identity = fixture.CreateClient("identity", searcher);

        var byId = await identity.GetFromJsonAsync<UserResponse>($"/api/users/{target.Id}");
        var byName = await identity.GetFromJsonAsync<UserResponse[]>($"/api/users?username={target.Username.ToUpperInvariant()}");
        var nobody = await identity.GetFromJsonAsync<UserResponse[]>($"/api/users?username={TestUsers.UniqueUsername("nobody")}");
        using var unknownId = await identity.GetAsync($"/api/users/{Guid.NewGuid()}");

        Assert.Equal(target.Id, byId!.Id);
        Assert.Equal(target.Id, Assert.Single(byName!).Id);
        Assert.Empty(nobody!);
        Assert.Equal(HttpStatusCode.NotFound, unknownId.StatusCode);
        Assert.Equal("application/problem+json", unknownId.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/api/users/me")]
    [InlineData("/api/users?username=someone")]
    public async Task UserEndpointsRefuseAnonymousCallersWithProblemDetails(string path)
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    internal static string WithoutTraceId(string problemJson)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(problemJson)!.AsObject();
        node.Remove("traceId");
        return node.ToJsonString();
    }
}
