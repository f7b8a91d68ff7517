using System.Net;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.WebClient;

/// <summary>The page's files as the gateway serves them: where, with which type, cache and security headers.</summary>
[Collection(YacAppCollection.Name)]
public sealed class WebClientServingTests(YacAppFixture fixture)
{
    [Fact]
    public async Task PageIsServedAtTheRootWithAStrictContentSecurityPolicy()
    {
        using var client = fixture.CreateClient("gateway");

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"/js/main.js\"></script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var policy = Directives(Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal(["'self'"], policy["script-src"]);
        Assert.DoesNotContain("'unsafe-inline'", policy["style-src"]);
        Assert.Equal(["'none'"], policy["frame-ancestors"]);
        var origin = client.BaseAddress!.Authority;
        Assert.Equal(["'self'", $"ws://{origin}", $"wss://{origin}"], policy["connect-src"]);
        Assert.Equal(["'none'"], policy["object-src"]);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [Theory]
    [InlineData("/js/main.js", "text/javascript")]
    [InlineData("/js/socket.js", "text/javascript")]
    [InlineData("/css/app.css", "text/css")]
    [InlineData("/icon.svg", "image/svg+xml")]
    public async Task ScriptsAndStylesAreRevalidatedOnEveryLoad(string path, string mediaType)
    {
        using var client = fixture.CreateClient("gateway");

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        // No hashed file names (no build step), so the browser must ask every time; the ETag keeps it cheap.
        Assert.True(response.Headers.CacheControl?.NoCache, "Cache-Control: no-cache");
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task UnchangedScriptIsAnsweredWithNotModified()
    {
        using var client = fixture.CreateClient("gateway");
        using var first = await client.GetAsync("/js/api.js");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/js/api.js");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    private static Dictionary<string, string[]> Directives(string policy) =>
        policy.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(directive => directive.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(parts => parts[0], parts => parts[1..]);
}
