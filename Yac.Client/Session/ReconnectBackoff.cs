namespace Yac.Client.Session;

/// <summary>
/// Jittered exponential backoff ("equal jitter"): attempt <c>n</c> waits between half and all of
/// <c>min(max, initial * 2^n)</c>, so clients dropped together by one replica do not come back at
/// the same instant, and none waits longer than <c>max</c>.
/// </summary>
internal sealed class ReconnectBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        _initial = initial;
        _max = max;
    }

    /// <summary>The delay before attempt <paramref name="attempt"/> (0 = the first retry), with <paramref name="random"/> in [0, 1).</summary>
    public TimeSpan Delay(int attempt, double random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(attempt);
        if (random is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(random), random, "Must be in [0, 1).");
        }

        // 2^attempt overflows long before the cap matters: stop doubling once past it.
        var ceiling = attempt >= 30 ? _max : TimeSpan.FromTicks(Math.Min(_max.Ticks, _initial.Ticks * (1L << attempt)));
        return ceiling / 2 + ceiling / 2 * random;
    }
}
