using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacAppCollection.Name)]
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
    public async Task LogoutWithoutTokenIsUnauthorized()
    {
        using var anonymous = fixture.CreateClient("identity");

        using var response = await anonymous.PostAsync("/api/logout", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
