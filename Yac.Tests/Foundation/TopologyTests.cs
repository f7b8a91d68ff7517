using System.Net;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Foundation;

[Collection(YacServicesAppCollection.Name)]
public sealed class TopologyTests(YacAppFixture fixture)
{
    private static readonly TimeSpan s_waitTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("identity")]
    [InlineData("chat")]
    [InlineData("gateway")]
    public async Task EveryServiceReportsHealthyIncludingItsDependencies(string service)
    {
        using var client = fixture.CreateClient(service);

        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks").EnumerateObject().Select(check => check.Name).ToList();
        Assert.Contains(checks, name => name.Contains("Redis", StringComparison.OrdinalIgnoreCase));
        if (service != "gateway")
        {
            Assert.Contains(checks, name => name.Contains("DbContext", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task AlivenessAnswersWithoutTouchingDependencies()
    {
        using var client = fixture.CreateClient("identity");

        using var response = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BothGatewayReplicasAnswerEachOnItsOwnPort()
    {
        using var timeout = new CancellationTokenSource(s_waitTimeout);
        var replicaUrls = await fixture.GetGatewayReplicaUrlsAsync(timeout.Token);

        Assert.Equal(2, replicaUrls.Select(url => url.Port).Distinct().Count());
        foreach (var url in replicaUrls)
        {
            using var client = TestHttp.Create(url);
            using var response = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task ServiceTurnsUnhealthyWhileRedisIsStoppedAndRecoversAfter()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var client = fixture.CreateClient("chat");

        await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-stop", timeout.Token);
        try
        {
            await client.WaitForHealthAsync(HttpStatusCode.ServiceUnavailable, timeout.Token);
        }
        finally
        {
            await fixture.ExecuteResourceCommandAsync(fixture.RedisProcessName, "resource-start", timeout.Token);
        }

        await client.WaitForHealthAsync(HttpStatusCode.OK, timeout.Token);
    }
}
