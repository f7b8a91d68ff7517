using Yac.Client;

namespace Yac.Tests.Client;

/// <summary>
/// Reads a session's events into a list as they come, and waits for what a test expects (always
/// with a timeout). Owns the session: disposing the log disposes it.
/// </summary>
public sealed class ClientEventLog : IAsyncDisposable
{
    private readonly YacSession _session;
    private readonly List<YacEvent> _events = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _reading;

    public ClientEventLog(YacSession session)
    {
        _session = session;
        _reading = ReadAsync(session);
    }

    public IReadOnlyList<YacEvent> Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    /// <summary>The messages of one chat, in the order the session delivered them.</summary>
    public IReadOnlyList<YacMessage> Messages(Guid chatId) =>
        [.. Snapshot().OfType<YacMessageEvent>().Select(e => e.Message).Where(message => message.ChatId == chatId)];

    /// <summary>Waits until <paramref name="condition"/> holds for the events so far; fails the test after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<YacEvent>, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (!condition(Snapshot()))
            {
                await _arrived.WaitAsync(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}; {Snapshot().Count} events so far.");
        }
    }

    private async Task ReadAsync(YacSession session)
    {
        await Task.Yield();
        await foreach (var @event in session.ReadAllAsync())
        {
            lock (_events)
            {
                _events.Add(@event);
            }

            _arrived.Release();
        }
    }

    public YacSession Session => _session;

    /// <summary>Ends the session and waits (bounded) for the reader, which ends with it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await _reading.WaitAsync(TimeSpan.FromSeconds(30));
        _arrived.Dispose();
    }
}
