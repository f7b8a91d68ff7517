using Yac.Client;

namespace Yac.UnitTests.Client;

public sealed class AccessTokenRenewalTests
{
    private static readonly DateTimeOffset s_issued = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_margin = TimeSpan.FromSeconds(60);

    [Fact]
    public void ALongLivedTokenIsRenewedTheMarginBeforeItExpires()
    {
        var token = new YacAccessToken("t", s_issued.AddMinutes(15), s_issued);
        Assert.Equal(s_issued.AddMinutes(14), token.RenewalDue(s_margin, seenAt: s_issued.AddMinutes(10)));
    }

    [Fact]
    public void AShortLivedTokenIsRenewedHalfwayThroughItsLifeWheneverItWasSeen()
    {
        var token = new YacAccessToken("t", s_issued.AddSeconds(10), s_issued);
        // Seen late (connected with a token already half used): still due at its half-life, not later.
        Assert.Equal(s_issued.AddSeconds(5), token.RenewalDue(s_margin, seenAt: s_issued.AddSeconds(4)));
    }

    [Fact]
    public void WithoutAnIssueTimeTheLifetimeCountsFromWhenTheTokenWasSeen()
    {
        var token = new YacAccessToken("t", s_issued.AddSeconds(10));
        Assert.Equal(s_issued.AddSeconds(6), token.RenewalDue(s_margin, seenAt: s_issued.AddSeconds(2)));
    }

    [Fact]
    public void TheTokenIsNeverPrinted() => Assert.DoesNotContain("secret", new YacAccessToken("secret", s_issued).ToString(), StringComparison.Ordinal);
}
