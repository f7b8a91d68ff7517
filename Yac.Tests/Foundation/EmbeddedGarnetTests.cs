using System.Net;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Foundation;

/// <summary>YAC on the embedded Garnet server: what a machine without redis-server runs.</summary>
[Collection(YacGarnetAppCollection.Name)]
public sealed class EmbeddedGarnetTests(YacGarnetAppFixture fixture)
{
    [Fact]
    public void TheRedisConnectionIsServedByGarnet() => Assert.Equal("garnet", fixture.RedisProcessName);

    [Theory]
    [InlineData("identity")]
    [InlineData("chat")]
    [InlineData("gateway")]
    public async Task EveryServiceIsHealthyOnGarnet(string service)
    {
        using var client = fixture.CreateClient(service);

        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
