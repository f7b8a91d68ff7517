using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(RestartedServicesAppCollection.Name)]
public sealed class IdentityRestartTests(YacAppFixture fixture)
{
    [Fact]
    public async Task TokenIssuedBeforeAnIdentityRestartIsStillAcceptedAfterIt()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var user = await fixture.RegisterAndLoginAsync("restart", cancellationToken: timeout.Token);

        await fixture.WhileStoppedAsync("identity", async () =>
        {
            // While it is down, a call to it fails at once with the reason (no timeout to wait out).
            using var down = fixture.CreateClient("identity", user);
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => down.GetAsync("/api/users/me", timeout.Token))
                .WaitAsync(TimeSpan.FromSeconds(5), timeout.Token);
            Assert.Contains("'identity' is not running", refused.Message, StringComparison.Ordinal);
        }, timeout.Token);

        using var identity = fixture.CreateClient("identity", user);
        using var response = await identity.GetAsync("/api/users/me", timeout.Token);
        using var chat = fixture.CreateClient("chat", user);
        using var chatResponse = await chat.GetAsync("/api/chats", timeout.Token);
        var afterRestart = await fixture.LoginAgainAsync(user, cancellationToken: timeout.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chatResponse.StatusCode);
        // The restarted Identity signs with the same persisted key.
        Assert.Equal(new JsonWebToken(user.AccessToken).Kid, new JsonWebToken(afterRestart.AccessToken).Kid);
    }
}
