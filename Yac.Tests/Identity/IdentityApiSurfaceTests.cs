using System.Net;
using System.Text;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class IdentityApiSurfaceTests(YacAppFixture fixture)
{
    [Theory]
    [InlineData("/api/users", "{\"username\": ")]
    [InlineData("/api/users", "not json at all")]
    [InlineData("/api/tokens", "[1, 2, 3]")]
    [InlineData("/api/tokens", "{\"username\": 42, \"password\": true}")]
    [InlineData("/api/tokens/refresh", "\"just a string\"")]
    public async Task MalformedJsonBodyIsBadRequestProblem(string path, string body)
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task LoginWithMissingFieldsIsAValidationProblem()
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsync("/api/tokens", new StringContent("{}", Encoding.UTF8, "application/json"));

        await RegistrationTests.AssertValidationProblemAsync(response, "username", "password");
    }

    [Fact]
    public async Task OpenApiDocumentDescribesEveryIdentityEndpoint()
    {
        using var identity = fixture.CreateClient("identity");

        using var document = JsonDocument.Parse(await identity.GetStringAsync("/openapi/v1.json"));

        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(path => path.Name).ToList();
        Assert.Contains("/api/users", paths);
        Assert.Contains("/api/users/me", paths);
        Assert.Contains("/api/users/{id}", paths);
        Assert.Contains("/api/tokens", paths);
        Assert.Contains("/api/tokens/refresh", paths);
        Assert.Contains("/api/logout", paths);
        Assert.Contains("/.well-known/jwks.json", paths);
    }

    [Fact]
    public async Task ApiReferenceIsBrowsableInDevelopment()
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.GetAsync("/scalar/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task NoPasswordHashOrTokenAppearsInIdentityLogs()
    {
        var user = await fixture.RegisterAndLoginAsync("secrets");
        using var anonymous = fixture.CreateClient("identity");
        using var wrong = await anonymous.PostAsync("/api/tokens", JsonBody(new { username = user.Username, password = "secret-wrong-pw-1234" }));
        using var refreshed = await anonymous.PostAsync("/api/tokens/refresh", JsonBody(new { refreshToken = user.RefreshToken }));
        using var reused = await anonymous.PostAsync("/api/tokens/refresh", JsonBody(new { refreshToken = user.RefreshToken }));
        using var asUser = fixture.CreateClient("identity", user);
        using var logout = await asUser.PostAsync("/api/logout", content: null);
        Assert.Equal(HttpStatusCode.Unauthorized, reused.StatusCode);

        var lines = await fixture.GetResourceLogsAsync("identity");

        // The reuse was logged (so the log is being read), but never with a secret.
        Assert.True(
            lines.Any(line => line.Contains("was presented again", StringComparison.Ordinal)),
            $"{lines.Count} lines, the last: {string.Join(Environment.NewLine, lines.TakeLast(20))}");
        var secrets = new[] { user.Password, "secret-wrong-pw-1234", user.RefreshToken, user.AccessToken, user.AccessToken.Split('.')[2] };
        Assert.All(lines, line => Assert.DoesNotContain(secrets, secret => line.Contains(secret, StringComparison.Ordinal)));
        Assert.All(lines, line => Assert.DoesNotContain("AQAAAA", line, StringComparison.Ordinal)); // PasswordHasher v3 hashes start so
    }

    private static StringContent JsonBody(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
