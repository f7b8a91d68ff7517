using System.Net;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

[Collection(YacAppCollection.Name)]
public sealed class GatewayProxyTests(YacAppFixture fixture)
{
    [Theory]
    [InlineData("identity", "/api/users/me")]
    [InlineData("identity", "/api/users?username=nobody")]
    [InlineData("identity", "/.well-known/jwks.json")]
    [InlineData("chat", "/api/chats")]
    public async Task GatewayAnswersAPublicPathExactlyAsTheOwningServiceDoes(string service, string path)
    {
        using var gateway = fixture.CreateClient("gateway");
        using var direct = fixture.CreateClient(service);

        using var throughGateway = await gateway.GetAsync(path);
        using var fromService = await direct.GetAsync(path);

        Assert.Equal(fromService.StatusCode, throughGateway.StatusCode);
        Assert.Equal(fromService.Content.Headers.ContentType?.MediaType, throughGateway.Content.Headers.ContentType?.MediaType);
        Assert.NotEqual(HttpStatusCode.BadGateway, throughGateway.StatusCode);
    }

    [Fact]
    public async Task GatewayDoesNotProxyPathsOutsideTheContract()
    {
        using var gateway = fixture.CreateClient("gateway");

        using var response = await gateway.GetAsync("/api/usersettings");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
