using Xunit.Abstractions;
using Yac.Bench.Scenarios;
using Yac.Bench.Systems.Yac;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Bench;

/// <summary>
/// The bench's smoke mode against the running app of the fixture, through the public contract:
/// register and log in over REST, group chats, sockets on each gateway replica's own port.
/// </summary>
[Collection(YacAppCollection.Name)]
public sealed class YacBenchSmokeTests(YacAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task BenchSmokeDeliversEveryMessageToEveryMemberThroughBothGatewayReplicas()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var replicas = await fixture.GetGatewayReplicaUrlsAsync(timeout.Token);
        using var identity = fixture.CreateClient("identity");
        using var chat = fixture.CreateClient("chat");
        var endpoints = new YacEndpoints(identity.BaseAddress!, chat.BaseAddress!, replicas);
        await using var system = new YacSystem(endpoints, processes: [], chatDbConnectionString: null, redis: null);

        var (step, report) = await SmokeRun.RunAsync(system, output.WriteLine, timeout.Token);

        BenchSmokeAssertions.AssertCompleteAndSane(step, report, SmokeRun.Settings, replicas.Count);
    }
}
