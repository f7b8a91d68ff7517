namespace Yac.Gateway.Dependencies;

/// <summary>
/// One service the gateway calls (ChatService, Identity) as the gateway sees it: up or down
/// (<see cref="AvailabilityTracker"/>), and a token cancelled the moment it goes down, so a call in
/// flight to a dead service ends then instead of at its own timeout.
/// <para>
/// While it is down, <see cref="IsAvailableAsync"/> asks it again (one probe at a time, at most one
/// every <see cref="s_reprobeSpacing"/>) and waits for that answer: the first call after the service is
/// back goes through instead of being refused until the next scheduled probe.
/// </para>
/// </summary>
internal sealed class Dependency : IDisposable
{
    private static readonly TimeSpan s_reprobeSpacing = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly AvailabilityTracker _tracker;
    private readonly Func<Dependency, CancellationToken, Task> _probe;
    private readonly TimeProvider _timeProvider;
    private CancellationTokenSource _whileAvailable = new();
    private Task _reprobe = Task.CompletedTask;
    private long _reprobeStarted;

    /// <param name="name">The service's name in service discovery (<c>chat</c>, <c>identity</c>).</param>
    /// <param name="failuresToDown">Failed probes in a row that take it down (<see cref="AvailabilityTracker"/>).</param>
    /// <param name="quietPeriod">How long it must also have answered nothing.</param>
    /// <param name="probe">Asks the service once and records the outcome here.</param>
    /// <param name="timeProvider">The clock of the re-probes' spacing.</param>
    public Dependency(
        string name, int failuresToDown, TimeSpan quietPeriod, Func<Dependency, CancellationToken, Task> probe, TimeProvider timeProvider)
    {
        Name = name;
        _tracker = new AvailabilityTracker(failuresToDown, quietPeriod);
        _probe = probe;
        _timeProvider = timeProvider;
    }

    public string Name { get; }

    /// <summary>Raised (outside the lock) when the dependency goes down (false) or comes back (true).</summary>
    public event Action<Dependency, bool>? Changed;

    public bool IsAvailable
    {
        get
        {
            lock (_lock)
            {
                return _tracker.IsAvailable;
            }
        }
    }

    /// <summary>Cancelled when the dependency goes down; a fresh one once it is back.</summary>
    public CancellationToken WhileAvailable
    {
        get
        {
            lock (_lock)
            {
                return _whileAvailable.Token;
            }
        }
    }

    /// <summary>Up now, or (down) up again by a probe made for this call; waits for that probe at most.</summary>
    public async ValueTask<bool> IsAvailableAsync(CancellationToken cancellationToken)
    {
        Task reprobe;
        lock (_lock)
        {
            if (_tracker.IsAvailable)
            {
                return true;
            }

            var now = _timeProvider.GetTimestamp();
            if (_reprobe.IsCompleted && _timeProvider.GetElapsedTime(_reprobeStarted, now) >= s_reprobeSpacing)
            {
                _reprobeStarted = now;
                _reprobe = Task.Run(() => _probe(this, CancellationToken.None), CancellationToken.None);
            }

            reprobe = _reprobe;
        }

        await reprobe.WaitAsync(cancellationToken);
        return IsAvailable;
    }

    public void RecordSuccess()
    {
        bool cameBack;
        lock (_lock)
        {
            cameBack = _tracker.RecordSuccess(_timeProvider.GetUtcNow());
            if (cameBack)
            {
                _whileAvailable = new CancellationTokenSource();
            }
        }

        if (cameBack)
        {
            Changed?.Invoke(this, true);
        }
    }

    public void RecordFailure()
    {
        CancellationTokenSource? cut = null;
        lock (_lock)
        {
            if (_tracker.RecordFailure(_timeProvider.GetUtcNow()))
            {
                cut = _whileAvailable;
            }
        }

        if (cut is not null)
        {
            // Not disposed: calls may still link to its token; with no timer it holds nothing to free.
            cut.Cancel();
            Changed?.Invoke(this, false);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _whileAvailable.Dispose();
        }
    }
}
