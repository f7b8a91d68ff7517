using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class RefreshTests(YacAppFixture fixture)
{
    [Fact]
    public async Task RefreshRotatesTheRefreshTokenAndKeepsTheDevice()
    {
        var user = await fixture.RegisterAndLoginAsync("refresh");
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokens = (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.Equal(user.Id, tokens.UserId);
        Assert.Equal(user.DeviceId, tokens.DeviceId);
        Assert.NotEqual(user.RefreshToken, tokens.RefreshToken);
        Assert.NotEqual(user.AccessToken, tokens.AccessToken);
        using var asUser = fixture.CreateClient("identity", tokens.AccessToken);
        var me = await asUser.GetFromJsonAsync<UserResponse>("/api/users/me");
        Assert.Equal(user.Id, me!.Id);
    }

    [Fact]
    public async Task SpentRefreshTokenIsRefused()
    {
        var user = await fixture.RegisterAndLoginAsync("spent");
        using var identity = fixture.CreateClient("identity");
        using var first = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var again = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ReusingASpentRefreshTokenRevokesTheWholeDeviceSession()
    {
        var user = await fixture.RegisterAndLoginAsync("reuse");
        var otherDevice = await fixture.LoginAgainAsync(user, "other device");
        using var identity = fixture.CreateClient("identity");
        using var rotated = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        var newer = (await rotated.Content.ReadFromJsonAsync<TokenResponse>())!;

        // A thief replays the old token: the session dies, including the legitimate newer tokens.
        using var replay = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken });
        using var newerRefresh = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = newer.RefreshToken });
        using var asNewer = fixture.CreateClient("identity", newer.AccessToken);
        using var newerAccess = await asNewer.GetAsync("/api/users/me");
        using var asOtherDevice = fixture.CreateClient("identity", otherDevice);
        using var otherDeviceAccess = await asOtherDevice.GetAsync("/api/users/me");

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, newerRefresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, newerAccess.StatusCode);
        // Only that device: the user's other sessions live on.
        Assert.Equal(HttpStatusCode.OK, otherDeviceAccess.StatusCode);
    }

    [Fact]
    public async Task RacingRefreshesWithOneTokenNeverBothSucceed()
    {
        var user = await fixture.RegisterAndLoginAsync("racing");
        using var identity = fixture.CreateClient("identity");

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken = user.RefreshToken })));
        var statuses = responses.Select(response => response.StatusCode).ToList();
        foreach (var response in responses)
        {
            response.Dispose();
        }

        Assert.True(statuses.Count(status => status == HttpStatusCode.OK) <= 1, string.Join(", ", statuses));
        Assert.All(statuses, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Unauthorized, status.ToString()));
    }

    [Theory]
    [InlineData("never-issued-token")]
    [InlineData("")]
    public async Task UnknownOrMissingRefreshTokenIsRefused(string refreshToken)
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken });

        if (refreshToken.Length == 0)
        {
            await RegistrationTests.AssertValidationProblemAsync(response, "refreshToken");
        }
        else
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }
}
