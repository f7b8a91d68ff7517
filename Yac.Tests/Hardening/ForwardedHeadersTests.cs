using System.Net;
using System.Net.Http.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Hardening;

/// <summary>
/// The gateway reads each client's address and passes it on; Identity's per-address limits count
/// each client, not the gateway. Clients leave from different loopback addresses (127.0.0.x) and
/// talk to a gateway replica directly, as clients on other machines would.
/// </summary>
[Collection(YacServicesAppCollection.Name)]
public sealed class ForwardedHeadersTests(YacAppFixture fixture)
{
    // Identity's default: 50 failed logins per client address per 5 minutes.
    private const int FailuresPerAddress = 50;

    [Fact]
    public async Task ALoginFloodFrom127009DoesNotLockOutAUserFrom127001()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var user = await fixture.RegisterAndLoginAsync("local", cancellationToken: timeout.Token);
        var sprayedAccount = await fixture.RegisterAndLoginAsync("sprayed", cancellationToken: timeout.Token);
        var replica = (await fixture.GetGatewayReplicaUrlsAsync(timeout.Token))[0];
        using var attacker = SourceAddressHttp.Create(replica, SourceAddressHttp.Loopback(9));
        using var local = SourceAddressHttp.Create(replica, SourceAddressHttp.Loopback(1));

        // Many accounts, one guess each: the address's budget, not any account's.
        using (var first = await attacker.PostAsJsonAsync("/api/tokens", new { username = sprayedAccount.Username, password = "wrong password" }, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        }

        var flood = await Task.WhenAll(Enumerable.Range(0, FailuresPerAddress + 10).Select(async _ =>
        {
            using var response = await attacker.PostAsJsonAsync(
                "/api/tokens", new { username = TestUsers.UniqueUsername("nobody"), password = "wrong password" }, timeout.Token);
            return response.StatusCode;
        }));
        using var fromLocal = await local.PostAsJsonAsync("/api/tokens", new { username = user.Username, password = user.Password }, timeout.Token);
        using var sprayedFromAttacker = await attacker.PostAsJsonAsync(
            "/api/tokens", new { username = sprayedAccount.Username, password = sprayedAccount.Password }, timeout.Token);
        using var spoofed = new HttpRequestMessage(HttpMethod.Post, "/api/tokens")
        {
            Content = JsonContent.Create(new { username = sprayedAccount.Username, password = sprayedAccount.Password }),
        };
        // A client cannot name its own address: the gateway replaces whatever X-Forwarded-For it sends.
        spoofed.Headers.Add("X-Forwarded-For", "127.0.0.1");
        using var spoofedFromAttacker = await attacker.SendAsync(spoofed, timeout.Token);
        using var sprayedFromLocal = await local.PostAsJsonAsync(
            "/api/tokens", new { username = sprayedAccount.Username, password = sprayedAccount.Password }, timeout.Token);

        Assert.All(flood, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Equal(HttpStatusCode.OK, fromLocal.StatusCode);
        // 127.0.0.9 is locked for the account that failed from it...
        Assert.Equal(HttpStatusCode.TooManyRequests, sprayedFromAttacker.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, spoofedFromAttacker.StatusCode);
        // ...and that account still logs in from anywhere else.
        Assert.Equal(HttpStatusCode.OK, sprayedFromLocal.StatusCode);
    }
}
