using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// A registered, logged-in user: everything a test needs to act as them. <see cref="DeviceId"/> is
/// the device session of <see cref="AccessToken"/> and <see cref="RefreshToken"/> (the <c>did</c> claim).
/// </summary>
public sealed record TestUser(
    Guid Id,
    string Username,
    string Password,
    string DisplayName,
    string AccessToken,
    string RefreshToken,
    Guid DeviceId);

/// <summary>Identity's token response as a client reads it (the contract's field names).</summary>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, Guid UserId, Guid DeviceId);

/// <summary>Identity's user as a client reads it.</summary>
public sealed record UserResponse(Guid Id, string Username, string DisplayName, DateTimeOffset CreatedAt);

/// <summary>
/// Users for tests, made through Identity's real API. Each call makes a new user with a unique
/// name, so tests never share data:
/// <code>
/// var alice = await fixture.RegisterAndLoginAsync("alice");
/// using var chat = fixture.CreateClient("chat", alice);   // sends Authorization: Bearer alice's token
/// </code>
/// </summary>
public static class TestUsers
{
    public const string DefaultPassword = "correct horse battery staple";

    /// <summary>A username no other test uses: <paramref name="prefix"/> (up to 12 characters) and a random suffix.</summary>
    public static string UniqueUsername(string prefix = "user")
        => $"{prefix[..Math.Min(prefix.Length, 12)].ToLowerInvariant()}_{Guid.NewGuid():N}"[..32];

    /// <summary>
    /// A documentation-range IPv6 address no other caller uses, with its own /64 (per-address limits
    /// count an IPv6 client by its /64), for X-Forwarded-For to Identity.
    /// </summary>
    public static string UniqueClientAddress()
    {
        var random = Guid.NewGuid().ToByteArray();
        return $"2001:db8:{random[0]:x2}{random[1]:x2}:{random[2]:x2}{random[3]:x2}::1";
    }

    /// <summary>Registers a new user (unique name starting with <paramref name="prefix"/>) and logs in once.</summary>
    public static async Task<TestUser> RegisterAndLoginAsync(
        this YacAppFixture fixture, string prefix = "user", string? deviceName = null, CancellationToken cancellationToken = default)
    {
        var username = UniqueUsername(prefix);
        using var identity = fixture.CreateClient("identity");
        using var register = new HttpRequestMessage(HttpMethod.Post, "/api/users")
        {
            Content = JsonContent.Create(new { username, password = DefaultPassword }),
        };
        // Identity trusts X-Forwarded-For from loopback (where the gateway runs): each test user
        // registers from an address of its own, so tests never use up one address's registrations.
        register.Headers.Add("X-Forwarded-For", UniqueClientAddress());
        using var registered = await identity.SendAsync(register, cancellationToken);
        await EnsureStatusAsync(registered, HttpStatusCode.Created, "register");
        var user = (await registered.Content.ReadFromJsonAsync<UserResponse>(cancellationToken))!;

        var tokens = await fixture.LoginAsync(username, DefaultPassword, deviceName, cancellationToken);
        return new TestUser(user.Id, user.Username, DefaultPassword, user.DisplayName, tokens.AccessToken, tokens.RefreshToken, tokens.DeviceId);
    }

    /// <summary>Logs the user in again: a new device session with its own tokens.</summary>
    public static async Task<TestUser> LoginAgainAsync(
        this YacAppFixture fixture, TestUser user, string? deviceName = null, CancellationToken cancellationToken = default)
    {
        var tokens = await fixture.LoginAsync(user.Username, user.Password, deviceName, cancellationToken);
        return user with { AccessToken = tokens.AccessToken, RefreshToken = tokens.RefreshToken, DeviceId = tokens.DeviceId };
    }

    /// <summary>POST /api/tokens, asserting 200.</summary>
    public static async Task<TokenResponse> LoginAsync(
        this YacAppFixture fixture, string username, string password, string? deviceName = null, CancellationToken cancellationToken = default)
    {
        using var identity = fixture.CreateClient("identity");
        using var response = await identity.PostAsJsonAsync("/api/tokens", new { username, password, deviceName }, cancellationToken);
        await EnsureStatusAsync(response, HttpStatusCode.OK, "login");
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!;
    }

    /// <summary>POST /api/tokens/refresh, asserting 200: a fresh access token for the same device (the refresh token rotates).</summary>
    public static async Task<TokenResponse> RefreshAsync(this YacAppFixture fixture, string refreshToken, CancellationToken cancellationToken = default)
    {
        using var identity = fixture.CreateClient("identity");
        using var response = await identity.PostAsJsonAsync("/api/tokens/refresh", new { refreshToken }, cancellationToken);
        await EnsureStatusAsync(response, HttpStatusCode.OK, "refresh");
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!;
    }

    /// <summary>An HttpClient on a service (<c>identity</c>, <c>chat</c>, <c>gateway</c>) that acts as <paramref name="user"/>.</summary>
    public static HttpClient CreateClient(this YacAppFixture fixture, string service, TestUser user)
        => fixture.CreateClient(service, user.AccessToken);

    /// <summary>An HttpClient on a service that sends <c>Authorization: Bearer <paramref name="accessToken"/></c>.</summary>
    public static HttpClient CreateClient(this YacAppFixture fixture, string service, string accessToken)
    {
        var client = fixture.CreateClient(service);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    /// <summary>POST /api/chats/{chatId}/messages with <paramref name="http"/>'s user, asserting 201; the message's seq.</summary>
    public static async Task<long> SendOverRestAsync(this HttpClient http, Guid chatId, string text, CancellationToken cancellationToken, string? clientMsgId = null)
    {
        using var response = await http.PostAsJsonAsync(
            $"/api/chats/{chatId}/messages", new { clientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N"), text }, cancellationToken);
        await EnsureStatusAsync(response, HttpStatusCode.Created, "send");
        using var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return message.RootElement.GetProperty("seq").GetInt64();
    }

    /// <summary>Fails the test with the response body unless the status is <paramref name="expected"/>.</summary>
    internal static async Task EnsureStatusAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        }
    }
}
