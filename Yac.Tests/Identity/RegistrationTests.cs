using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
public sealed class RegistrationTests(YacAppFixture fixture)
{
    [Fact]
    public async Task RegisterCreatesUserWithLowerCaseNameAndDefaultDisplayName()
    {
        var username = TestUsers.UniqueUsername("Reg");
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/users", new { username = username.ToUpperInvariant(), password = TestUsers.DefaultPassword });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = await response.Content.ReadFromJsonAsync<UserResponse>();
        Assert.NotNull(user);
        Assert.NotEqual(Guid.Empty, user.Id);
        Assert.Equal(username, user.Username);
        Assert.Equal(username, user.DisplayName);
        Assert.True(user.CreatedAt > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal($"/api/users/{user.Id}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task RegisterKeepsTheGivenDisplayNameAndIgnoresUnknownFields()
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/users", new
        {
            username = TestUsers.UniqueUsername("disp"),
            password = TestUsers.DefaultPassword,
            displayName = "Ada Lovelace",
            favouriteColour = "green",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = await response.Content.ReadFromJsonAsync<UserResponse>();
        Assert.Equal("Ada Lovelace", user!.DisplayName);
    }

    [Theory]
    [InlineData("same")]
    [InlineData("upper")]
    public async Task RegisteringATakenUsernameIsConflictWhateverItsCase(string casing)
    {
        var username = TestUsers.UniqueUsername("dup");
        using var identity = fixture.CreateClient("identity");
        using var first = await identity.PostAsJsonAsync("/api/users", new { username, password = TestUsers.DefaultPassword });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        var again = casing == "upper" ? username.ToUpperInvariant() : username;
        using var second = await identity.PostAsJsonAsync("/api/users", new { username = again, password = TestUsers.DefaultPassword });

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal(409, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task RacingRegistrationsOfOneNameCreateExactlyOneUser()
    {
        var username = TestUsers.UniqueUsername("race");
        using var identity = fixture.CreateClient("identity");

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(index => identity.PostAsJsonAsync(
            "/api/users", new { username = index % 2 == 0 ? username : username.ToUpperInvariant(), password = TestUsers.DefaultPassword })));

        var statuses = responses.Select(response => response.StatusCode).ToList();
        foreach (var response in responses)
        {
            response.Dispose();
        }

        Assert.Equal(1, statuses.Count(status => status == HttpStatusCode.Created));
        Assert.Equal(3, statuses.Count(status => status == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData("ab", "longenough", null, "username")]
    [InlineData("this_name_is_far_too_long_for_yac_1", "longenough", null, "username")]
    [InlineData("bad name", "longenough", null, "username")]
    [InlineData("bad!name", "longenough", null, "username")]
    [InlineData("ünïcode", "longenough", null, "username")]
    [InlineData(null, "longenough", null, "username")]
    [InlineData("VALID", "short", null, "password")]
    [InlineData("VALID", null, null, "password")]
    [InlineData("VALID", "longenough", "", "displayName")]
    [InlineData("VALID", "longenough", "   ", "displayName")]
    public async Task InvalidFieldsAreRejectedWithFieldErrors(string? username, string? password, string? displayName, string field)
    {
        if (username == "VALID")
        {
            username = TestUsers.UniqueUsername("val");
        }

        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/users", new { username, password, displayName });

        await AssertValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task OverlongPasswordAndDisplayNameAreRejectedTogether()
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/users", new
        {
            username = TestUsers.UniqueUsername("long"),
            password = new string('p', 129),
            displayName = new string('d', 65),
        });

        await AssertValidationProblemAsync(response, "password", "displayName");
    }

    [Fact]
    public async Task LongestAllowedFieldsAreAccepted()
    {
        using var identity = fixture.CreateClient("identity");

        using var response = await identity.PostAsJsonAsync("/api/users", new
        {
            username = TestUsers.UniqueUsername("max-._"),
            password = new string('p', 128),
            displayName = new string('d', 64),
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    internal static async Task AssertValidationProblemAsync(HttpResponseMessage response, params string[] fields)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().Select(error => error.Name).ToList();
        Assert.Equal(fields.Order(), errors.Order());
    }
}
