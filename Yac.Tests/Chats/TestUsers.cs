using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

// TEMPORARY: replaced by Identity's shared test helpers once they land in main.
internal static class TestUsers
{
    public static async Task<(Guid UserId, string AccessToken)> RegisterAndLogInAsync(YacAppFixture fixture, string label)
    {
        using var identity = fixture.CreateClient("identity");
        var username = $"{label}_{Guid.NewGuid():N}"[..30].ToLowerInvariant();
        const string password = "correct horse battery";
        using var created = await identity.PostAsJsonAsync("/api/users", new { username, password });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var login = await identity.PostAsJsonAsync("/api/tokens", new { username, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        using var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync());
        return (token.RootElement.GetProperty("userId").GetGuid(), token.RootElement.GetProperty("accessToken").GetString()!);
    }
}
