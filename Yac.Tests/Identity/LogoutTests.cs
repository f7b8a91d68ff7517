using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class LogoutTests(YacAppFixture fixture)
{
    [Fact]
    public async Task LogoutEndsTheDeviceSessionAtIdentity()
    {
        var user = await fixture.RegisterAndLoginAsync("logout");
        var otherDevice = await fixture.LoginAgainAsync(user);
        using var asUser = fixture.CreateClient("identity", user);
        using var anonymous = fixture.CreateClient("identity");

        using var logout = await asUser.PostAsync("/api/logout", content: null);
        using var afterLogout = await asUser.GetAsync("/api/users/me");
        using var refresh = await anonymous.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        using var asOtherDevice = fixture.CreateClient("identity", otherDevice);
        using var otherDeviceAccess = await asOtherDevice.GetAsync("/api/users/me");

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterLogout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherDeviceAccess.StatusCode);
    }

    [Fact]
    public async Task AfterLogoutChatServiceRefusesTheAccessTokenToo()
    {
        var user = await fixture.RegisterAndLoginAsync("chatlogout");
        using var chat = fixture.CreateClient("chat", user);
        using var identity = fixture.CreateClient("identity", user);
        using var before = await chat.GetAsync("/api/chats");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        using var logout = await identity.PostAsync("/api/logout", content: null);
        // At once: no waiting for the revocation to travel, Identity's 204 means refused everywhere.
        using var after = await chat.GetAsync("/api/chats");

        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("application/problem+json", after.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task RefreshTokenReuseMakesChatServiceRefuseTheDevicesAccessTokens()
    {
        var user = await fixture.RegisterAndLoginAsync("chatreuse");
        using var anonymous = fixture.CreateClient("identity");
        using var rotated = await anonymous.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        var newer = (await rotated.Content.ReadFromJsonAsync<TokenResponse>())!;
        using var chat = fixture.CreateClient("chat", newer.AccessToken);
        using var before = await chat.GetAsync("/api/chats");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        using var replay = await anonymous.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        using var after = await chat.GetAsync("/api/chats");

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task LogoutWithoutTokenIsUnauthorized()
    {
        using var anonymous = fixture.CreateClient("identity");

        using var response = await anonymous.PostAsync("/api/logout", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
