using Yac.Client.Session;

namespace Yac.UnitTests.Client;

public sealed class ReconnectBackoffTests
{
    private static readonly ReconnectBackoff s_backoff = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(15));

    [Theory]
    [InlineData(0, 125, 250)]
    [InlineData(1, 250, 500)]
    [InlineData(3, 1000, 2000)]
    [InlineData(6, 7500, 15000)]
    [InlineData(7, 7500, 15000)]
    [InlineData(1000, 7500, 15000)]
    public void EachAttemptWaitsBetweenHalfAndAllOfItsCappedDoubling(int attempt, int lowestMs, int highestMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(lowestMs), s_backoff.Delay(attempt, 0));
        var highest = s_backoff.Delay(attempt, 0.999999);
        Assert.InRange(highest, TimeSpan.FromMilliseconds(highestMs - 1), TimeSpan.FromMilliseconds(highestMs));
    }

    [Fact]
    public void TheJitterSpreadsClientsDroppedTogether()
    {
        var delays = Enumerable.Range(0, 100).Select(i => s_backoff.Delay(4, i / 100.0)).Distinct().Count();
        Assert.Equal(100, delays);
    }

    [Fact]
    public void NonsenseIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => s_backoff.Delay(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => s_backoff.Delay(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
    }
}
