using Yac.ServiceDefaults;

namespace Yac.UnitTests.ServiceDefaults;

public sealed class AccessTokenRedactionTests
{
    [Theory]
    [InlineData("/ws?access_token=abc.def.ghi", "/ws?access_token=Redacted")]
    [InlineData("/ws?x=1&ACCESS_TOKEN=abc&y=2", "/ws?x=1&ACCESS_TOKEN=Redacted&y=2")]
    [InlineData("/ws?access_token=a&access_token=b#frag", "/ws?access_token=Redacted&access_token=Redacted#frag")]
    public void EveryAccessTokenValueIsRedacted(string url, string expected)
        => Assert.Equal(expected, AccessTokenRedaction.Redact(url));

    [Fact]
    public void AUrlWithoutATokenIsReturnedAsItIs()
    {
        const string url = "/api/chats?limit=5";
        Assert.Same(url, AccessTokenRedaction.Redact(url));
    }
}
