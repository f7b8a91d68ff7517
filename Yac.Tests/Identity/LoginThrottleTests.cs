using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Identity;

[Collection(YacServicesAppCollection.Name)]
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
    public async Task ManyFailuresFromOneAddressLockItForAccountsThatFailedButNotForAnAccountWithoutFailures()
    {
        var clean = await fixture.RegisterAndLoginAsync("clean");
        var failed = await fixture.RegisterAndLoginAsync("failed");
        var address = UniqueClientAddress();
        using (var once = await LoginAsync(failed.Username, "wrong password", UniqueClientAddress()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, once.StatusCode);
        }

        for (var attempt = 0; attempt < FailuresPerAddress; attempt++)
        {
            using var sprayed = await LoginAsync(TestUsers.UniqueUsername("sprayed"), "wrong password", address);
            Assert.Equal(HttpStatusCode.Unauthorized, sprayed.StatusCode);
        }

        using var withFailures = await LoginAsync(failed.Username, failed.Password, address);
        using var withoutFailures = await LoginAsync(clean.Username, clean.Password, address);
        using var otherAddress = await LoginAsync(failed.Username, failed.Password, UniqueClientAddress());

        AssertThrottled(withFailures);
        Assert.Equal(HttpStatusCode.OK, withoutFailures.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
    }

    [Fact]
    public async Task SixtyConcurrentWrongPasswordsGetAtMostFive401sAndThen429WhileAnotherUserFromAnotherAddressLogsInAtOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var victim = await fixture.RegisterAndLoginAsync("victim", cancellationToken: timeout.Token);
        var bystander = await fixture.RegisterAndLoginAsync("bystander", cancellationToken: timeout.Token);
        var replica = (await fixture.GetGatewayReplicaUrlsAsync(timeout.Token))[0];
        using var attacker = SourceAddressHttp.Create(replica, SourceAddressHttp.Loopback(7));
        using var elsewhere = SourceAddressHttp.Create(replica, SourceAddressHttp.Loopback(8));

        var flood = await Task.WhenAll(Enumerable.Range(0, 60).Select(async _ =>
        {
            using var response = await attacker.PostAsJsonAsync("/api/tokens", new { username = victim.Username, password = "wrong password" }, timeout.Token);
            return response.StatusCode;
        }));
        var started = TimeProvider.System.GetTimestamp();
        using var bystanderLogin = await elsewhere.PostAsJsonAsync("/api/tokens", new { username = bystander.Username, password = bystander.Password }, timeout.Token);
        var bystanderTook = TimeProvider.System.GetElapsedTime(started);
        using var victimLogin = await elsewhere.PostAsJsonAsync("/api/tokens", new { username = victim.Username, password = victim.Password }, timeout.Token);

        Assert.All(flood, status => Assert.Contains(status, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.InRange(flood.Count(status => status == HttpStatusCode.Unauthorized), 1, FailuresPerUsername);
        Assert.Equal(HttpStatusCode.OK, bystanderLogin.StatusCode);
        Assert.True(bystanderTook < TimeSpan.FromSeconds(5), $"the bystander's login took {bystanderTook}");
        AssertThrottled(victimLogin);
    }

    [Fact]
    public async Task AnAccountLockedByFailuresStaysLockedWhenIdentityRestarts()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var user = await fixture.RegisterAndLoginAsync("locked", cancellationToken: timeout.Token);
        for (var attempt = 0; attempt < FailuresPerUsername; attempt++)
        {
            using var failed = await LoginAsync(user.Username, "wrong password", UniqueClientAddress());
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        // The gateway keeps pooled connections to Identity: these open several, which the restart leaves dead.
        using var gateway = fixture.CreateClient("gateway");
        Assert.All(await ThroughTheGatewayAsync(gateway, timeout.Token), status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        await fixture.ExecuteResourceCommandAsync("identity", "resource-stop", timeout.Token);
        await fixture.App.ResourceNotifications.WaitForResourceAsync(
            "identity", resourceEvent => resourceEvent.Snapshot.State?.Text is "Exited" or "Finished" or "Stopped", timeout.Token);
        await fixture.ExecuteResourceCommandAsync("identity", "resource-start", timeout.Token);
        // Not WaitForResourceHealthyAsync: right after the start command it can still see the stop that
        // just ended and throw "failed to start" (CI, once); this waits for the instance to run healthy.
        await fixture.WaitForEveryInstanceHealthyAsync("identity", timeout.Token);
        using var afterRestart = await LoginAsync(user.Username, user.Password, UniqueClientAddress());
        var gatewayAfterRestart = await ThroughTheGatewayAsync(gateway, timeout.Token);

        AssertThrottled(afterRestart);
        // Every request through the gateway is answered by the new Identity, none 503 on a connection the old one left.
        Assert.All(gatewayAfterRestart, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
    }

    private static async Task<HttpStatusCode[]> ThroughTheGatewayAsync(HttpClient gateway, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            // A POST with a body (a forwarder cannot send it again by itself) and no token: Identity answers 401.
            using var response = await gateway.PostAsJsonAsync("/api/logout", new { refreshToken = "not a refresh token" }, cancellationToken);
            return response.StatusCode;
        }));

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
    /// the gateway), so X-Forwarded-For names the client: each test is its own client address (its
    /// own IPv6 /64) and does not use up the shared loopback address's budget. Only the last hop
    /// counts: the first address is what a client could write itself.
    /// </summary>
    private static string UniqueClientAddress() => $"198.51.100.7, {TestUsers.UniqueClientAddress()}";

    private async Task<HttpResponseMessage> LoginAsync(string username, string password, string forwardedFor)
    {
        using var identity = fixture.CreateClient("identity");
        identity.Timeout = TimeSpan.FromSeconds(30);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens")
        {
            Content = JsonContent.Create(new { username, password }),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await identity.SendAsync(request);
    }
}
