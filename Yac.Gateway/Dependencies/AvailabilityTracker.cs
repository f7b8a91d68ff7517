namespace Yac.Gateway.Dependencies;

/// <summary>
/// Whether a dependency is up, from what was seen of it: <c>failuresToDown</c> failed probes in a row
/// with no success in between take it down; one success (a probe, or any call it answered) brings it
/// back. A busy dependency answering real calls is never taken down by slow probes alone: each answer
/// starts the count again. Pure: the caller serializes the calls.
/// </summary>
internal sealed class AvailabilityTracker
{
    private readonly int _failuresToDown;
    private int _failuresInARow;

    public AvailabilityTracker(int failuresToDown)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failuresToDown, 1);
        _failuresToDown = failuresToDown;
    }

    /// <summary>Up until seen failing: a replica starting beside its dependencies does not refuse its first calls.</summary>
    public bool IsAvailable { get; private set; } = true;

    /// <summary>A failed probe. True when it took the dependency down.</summary>
    public bool RecordFailure()
    {
        _failuresInARow++;
        if (!IsAvailable || _failuresInARow < _failuresToDown)
        {
            return false;
        }

        IsAvailable = false;
        return true;
    }

    /// <summary>An answer. True when it brought the dependency back.</summary>
    public bool RecordSuccess()
    {
        _failuresInARow = 0;
        if (IsAvailable)
        {
            return false;
        }

        IsAvailable = true;
        return true;
    }
}
