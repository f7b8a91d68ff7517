namespace Yac.Gateway.Dependencies;

/// <summary>
/// Whether a dependency is up, from what was seen of it: <c>failuresToDown</c> failed probes in a row,
/// with no answer from it (a probe, or any call) in between, take it down, provided it also answered
/// nothing within the last <c>quietPeriod</c> (a busy service that answers calls is not down). One
/// answer brings it back. Pure: the caller serializes the calls and gives the time.
/// </summary>
internal sealed class AvailabilityTracker
{
    private readonly int _failuresToDown;
    private readonly TimeSpan _quietPeriod;
    private int _failuresInARow;
    private DateTimeOffset _lastAnswer = DateTimeOffset.MinValue;

    public AvailabilityTracker(int failuresToDown, TimeSpan quietPeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failuresToDown, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(quietPeriod, TimeSpan.Zero);
        _failuresToDown = failuresToDown;
        _quietPeriod = quietPeriod;
    }

    /// <summary>Up until seen failing: a replica starting beside its dependencies does not refuse its first calls.</summary>
    public bool IsAvailable { get; private set; } = true;

    /// <summary>A failed probe. True when it took the dependency down.</summary>
    public bool RecordFailure(DateTimeOffset now)
    {
        _failuresInARow++;
        if (!IsAvailable || _failuresInARow < _failuresToDown || now - _lastAnswer < _quietPeriod)
        {
            return false;
        }

        IsAvailable = false;
        return true;
    }

    /// <summary>An answer. True when it brought the dependency back.</summary>
    public bool RecordSuccess(DateTimeOffset now)
    {
        _failuresInARow = 0;
        _lastAnswer = now;
        if (IsAvailable)
        {
            return false;
        }

        IsAvailable = true;
        return true;
    }
}
