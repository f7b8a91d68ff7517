using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacAppCollection.Name)]
public sealed class LoginThrottleTests(YacAppFixture fixture)
{
    // Identity's defaults: 5 failures per username, 50 per client address, per 5 minutes.
    private const int FailuresPerUsername = 5;
    private const int FailuresPerAddress = 50;

    [Fact]
    public async Task RepeatedWrongPasswordsForOneUsernameAreThrottledEvenWithTheRightOne()
    {
        var user = await fixture.RegisterAndLoginAsync("throttle");
        var address = UniqueClientAddress();

        for (var attempt = 0; attempt < FailuresPerUsername; attempt++)
        {
            using var failed = await LoginAsync(user.Username, "wrong password", address);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var throttled = await LoginAsync(user.Username, user.Password, address);
        using var fromElsewhere = await LoginAsync(user.Username.ToUpperInvariant(), user.Password, UniqueClientAddress());

        AssertThrottled(throttled);
        AssertThrottled(fromElsewhere);
    }

    [Fact]
    public async Task ManyFailuresFromOneAddressThrottleThatAddressForEveryUsername()
    {
        var user = await fixture.RegisterAndLoginAsync("spray");
        var address = UniqueClientAddress();

        for (var attempt = 0; attempt < FailuresPerAddress; attempt++)
        {
            using var failed = await LoginAsync(TestUsers.UniqueUsername("sprayed"), "wrong password", address);
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var throttled = await LoginAsync(user.Username, user.Password, address);
        using var otherAddress = await LoginAsync(user.Username, user.Password, UniqueClientAddress());

        AssertThrottled(throttled);
        Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
    }

    [Fact]
    public async Task SuccessfulLoginsAreNeverThrottled()
    {
        var user = await fixture.RegisterAndLoginAsync("frequent");
        var address = UniqueClientAddress();

        for (var attempt = 0; attempt < FailuresPerUsername + 2; attempt++)
        {
            using var response = await LoginAsync(user.Username, user.Password, address);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static void AssertThrottled(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
    }

    /// <summary>
    /// The test process reaches Identity over loopback, which Identity trusts as a proxy (as it does
    /// the gateway), so X-Forwarded-For names the client: each test is its own client address and
    /// does not use up the shared loopback address's budget. Only the last hop counts: the first
    /// address is what a client could write itself.
    /// </summary>
    private static string UniqueClientAddress()
    {
        var suffix = Guid.NewGuid().ToByteArray();
        return $"198.51.100.7, 2001:db8::{suffix[0]:x2}{suffix[1]:x2}:{suffix[2]:x2}{suffix[3]:x2}:{suffix[4]:x2}{suffix[5]:x2}";
    }

    private async Task<HttpResponseMessage> LoginAsync(string username, string password, string forwardedFor)
    {
        using var identity = fixture.CreateClient("identity");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens")
        {
            Content = JsonContent.Create(new { username, password }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await identity.SendAsync(request);
    }
}
