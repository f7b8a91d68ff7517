using System.Net;
using System.Text.Json;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Chats;

[Collection(YacServicesAppCollection.Name)]
public sealed class ChatOpenApiTests(YacAppFixture fixture)
{
    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryChatEndpointAndTheReferenceIsServed()
    {
        using var client = fixture.CreateClient("chat");

        using var document = await client.GetAsync("/openapi/v1.json");
        using var reference = await client.GetAsync("/scalar");

        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        using var json = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        var paths = json.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/chats").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/api/chats").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}/members/{userId}").TryGetProperty("put", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}/members/{userId}").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}/messages").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}/messages").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/chats/{chatId}/read").TryGetProperty("post", out _));
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
    }
}
