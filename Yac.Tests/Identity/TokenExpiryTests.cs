using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(ShortLivedTokensAppCollection.Name)]
public sealed class TokenExpiryTests(ShortLivedTokensAppFixture fixture)
{
    [Fact]
    public async Task AccessTokenIsRefusedOnceItHasExpired()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var user = await fixture.RegisterAndLoginAsync("expiry", cancellationToken: timeout.Token);
        var expiresAt = new JsonWebToken(user.AccessToken).ValidTo;
        Assert.Equal(ShortLivedTokensAppFixture.AccessTokenLifetime, expiresAt - new JsonWebToken(user.AccessToken).IssuedAt);
        using var identity = fixture.CreateClient("identity", user);

        using var fresh = await identity.GetAsync("/api/users/me", timeout.Token);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);

        // Waiting for time itself to pass (the token's exp), not for another part of the system.
        var untilExpiry = expiresAt - DateTime.UtcNow + TimeSpan.FromMilliseconds(200);
        if (untilExpiry > TimeSpan.Zero)
        {
            await Task.Delay(untilExpiry, timeout.Token);
        }

        using var expired = await identity.GetAsync("/api/users/me", timeout.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains(expired.Headers.WwwAuthenticate, header => header.Parameter?.Contains("expired", StringComparison.OrdinalIgnoreCase) == true);
    }
}
