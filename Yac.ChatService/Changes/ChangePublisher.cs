using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;
using Yac.ChatService.Events;
using Yac.ChatService.Infrastructure;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;

namespace Yac.ChatService.Changes;

/// <summary>How the change publisher runs (section <c>Yac:Chat:Publisher</c>).</summary>
public sealed class ChangePublisherOptions
{
    public const string Section = "Yac:Chat:Publisher";

    /// <summary>How often the leader looks for committed changes not yet published (other replicas' included).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often a replica that is not the leader tries to become it.</summary>
    public TimeSpan StandbyInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A test switch: while a file exists at this path, the publisher commits nothing to Redis (it is
    /// as if it had died right after the commit). Unset in production.
    /// </summary>
    public string? PauseFile { get; set; }

    public bool Paused => PauseFile is { Length: > 0 } path && File.Exists(path);
}

/// <summary>
/// Puts every committed change of every chat on Redis at least once, in rev order per chat, by
/// following the chats' logs (the outbox): a change is published only after it committed, and every
/// committed change is published, whatever crashed in between.
/// <para>
/// One replica publishes at a time: the one holding a PostgreSQL advisory lock (the others stand by
/// and take over within <see cref="ChangePublisherOptions.StandbyInterval"/> if it goes). Per chat,
/// <c>chats.published_rev</c> records how far the log is on Redis; a partial index on
/// <c>rev &gt; published_rev</c> makes "what is waiting" one cheap lookup. The leader is woken by its own
/// commits, which hand over their changes already rendered (the fast path: nothing is read back), by
/// the other replicas' <c>NOTIFY</c>, and by a short poll; whatever the fast path lacks (another
/// replica's change, a gap, a crash before publish) it reads from the log. After a restart it
/// resumes from <c>published_rev</c>, so a change may go out twice but never not at all; gateways
/// drop what they already have by rev.
/// </para>
/// </summary>
public sealed partial class ChangePublisher(
    NpgsqlDataSource dataSource,
    IServiceScopeFactory scopes,
    IConnectionMultiplexer redis,
    IOptions<ChangePublisherOptions> options,
    TimeProvider time,
    ILogger<ChangePublisher> logger) : BackgroundService
{
    private const string NotifyChannel = "yac_changes";
    private const int FastPathCapacity = 50_000;
    private const int MaxFastPathBatch = 4096;
    private const int MaxRecoveredChats = 1000;
    private const int ReadPageSize = 500;
    private const int MaxTrackedChats = 100_000;
    private static readonly TimeSpan s_shutdownDrain = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>"YACLOG" as a number: the advisory lock of the publishing replica.</summary>
    private const long LeaderLock = 0x5941434C4F47;

    private readonly Channel<CommittedChange> _fastPath = Channel.CreateBounded<CommittedChange>(
        new BoundedChannelOptions(FastPathCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _notifyOthers = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private volatile bool _isLeader;
    private volatile bool _scanRequested = true;

    /// <summary>Whether this replica publishes now.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>
    /// Hands over changes that just committed. Never waits: a change that does not fit (or that this
    /// replica is not the one to publish) is read from the log by whichever replica leads.
    /// </summary>
    public void Committed(IReadOnlyList<CommittedChange> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        if (!_isLeader)
        {
            _notifyOthers.Writer.TryWrite(true);
            return;
        }

        foreach (var change in changes)
        {
            if (!_fastPath.Writer.TryWrite(change))
            {
                _scanRequested = true;
                break;
            }
        }

        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var notifier = NotifyOthersAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadWhileLockedAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // PostgreSQL went away (and the lock with it) or a round failed: stand by, then try again.
                _isLeader = false;
                LogLeadershipLost(exception);
                await DelayAsync(options.Value.StandbyInterval, stoppingToken);
            }
        }

        await notifier;
    }

    /// <summary>Takes the lock if it is free and publishes for as long as it is held.</summary>
    private async Task LeadWhileLockedAsync(CancellationToken stoppingToken)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(stoppingToken);
        await using (var tryLock = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LeaderLock})", lockConnection))
        {
            if (await tryLock.ExecuteScalarAsync(stoppingToken) is not true)
            {
                await DelayAsync(options.Value.StandbyInterval, stoppingToken);
                return;
            }
        }

        await using (var listen = new NpgsqlCommand($"LISTEN {NotifyChannel}", lockConnection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        lockConnection.Notification += OnNotification;
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // The lock lives with this connection: when it breaks, so does the leadership.
        var listening = ListenAsync(lockConnection, term);
        _isLeader = true;
        _scanRequested = true;
        LogLeading();
        try
        {
            await PublishLoopAsync(term.Token, stoppingToken);
        }
        finally
        {
            _isLeader = false;
            await term.CancelAsync();
            await listening;
            lockConnection.Notification -= OnNotification;
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs args)
    {
        _scanRequested = true;
        _wake.Writer.TryWrite(true);
    }

    private static async Task ListenAsync(NpgsqlConnection connection, CancellationTokenSource term)
    {
        try
        {
            while (!term.IsCancellationRequested)
            {
                await connection.WaitAsync(term.Token);
            }
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
        }
        catch (Exception) when (!term.IsCancellationRequested)
        {
            // The connection broke: end this term (its loop sees the cancellation and stops).
            await term.CancelAsync();
        }
    }

    private async Task PublishLoopAsync(CancellationToken termToken, CancellationToken stoppingToken)
    {
        var published = new Dictionary<Guid, long>();
        var failures = 0;
        var nextScan = time.GetUtcNow();
        while (true)
        {
            if (termToken.IsCancellationRequested)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    await DrainAsync(published);
                }

                return;
            }

            var wait = nextScan - time.GetUtcNow();
            if (!_scanRequested && !_fastPath.Reader.TryPeek(out _) && wait > TimeSpan.Zero)
            {
                await WaitForWakeAsync(wait, termToken);
                continue;
            }

            var scan = _scanRequested || time.GetUtcNow() >= nextScan;
            _scanRequested = false;
            if (scan)
            {
                nextScan = time.GetUtcNow() + options.Value.PollInterval;
            }

            if (options.Value.Paused)
            {
                while (_fastPath.Reader.TryRead(out _))
                {
                }

                continue;
            }

            var ok = await PublishRoundAsync(published, scan, termToken);
            failures = ok ? 0 : failures + 1;
            if (!ok)
            {
                _scanRequested = true;
                await DelayAsync(TimeSpan.FromMilliseconds(Math.Min(s_maxRetryDelay.TotalMilliseconds, 100 * Math.Pow(2, failures))), termToken);
            }
        }
    }

    /// <summary>Shutting down: what the fast path still holds goes out within a few seconds (the log keeps the rest).</summary>
    private async Task DrainAsync(Dictionary<Guid, long> published)
    {
        using var drain = new CancellationTokenSource(s_shutdownDrain);
        try
        {
            while (_fastPath.Reader.TryPeek(out _) && !drain.IsCancellationRequested)
            {
                await PublishRoundAsync(published, scan: false, drain.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or NpgsqlException or RedisException)
        {
            LogDrainIncomplete(exception);
        }
    }

    /// <summary>
    /// One round: the fast path's changes that continue what is published, plus, read from the log,
    /// every chat whose changes do not (or every unpublished chat when <paramref name="scan"/>); then
    /// publishes them in rev order per chat and records how far each chat got. False when something
    /// failed (it is tried again: nothing is marked published that was not).
    /// </summary>
    private async Task<bool> PublishRoundAsync(Dictionary<Guid, long> published, bool scan, CancellationToken cancellationToken)
    {
        var outgoing = new List<Outgoing>();
        var planned = new Dictionary<Guid, long>();
        var recover = new HashSet<Guid>();

        var fast = new List<CommittedChange>();
        while (fast.Count < MaxFastPathBatch && _fastPath.Reader.TryRead(out var change))
        {
            fast.Add(change);
        }

        foreach (var chat in fast.GroupBy(change => change.ChatId))
        {
            if (!published.TryGetValue(chat.Key, out var last))
            {
                recover.Add(chat.Key); // where this chat stands is in the database
                continue;
            }

            foreach (var change in chat.OrderBy(change => change.Rev))
            {
                if (change.Rev <= last)
                {
                    continue;
                }

                if (change.Rev != last + 1)
                {
                    recover.Add(chat.Key); // another replica's change in between, or one that did not fit
                    break;
                }

                outgoing.Add(new Outgoing(change.ChatId, change.Rev, change.Type, change.UserId, change.Seq, change.Frame, change.Cause));
                last = change.Rev;
            }

            planned[chat.Key] = last;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var moreWaiting = false;
        if (scan || recover.Count > 0)
        {
            moreWaiting = await RecoverAsync(db, published, planned, recover, scan, outgoing, cancellationToken);
        }

        var reached = await SendAsync(outgoing, cancellationToken);
        var allSent = true;
        var marks = new Dictionary<Guid, long>(planned.Count);
        foreach (var (chatId, rev) in planned)
        {
            var sent = Math.Max(reached.GetValueOrDefault(chatId), published.GetValueOrDefault(chatId));
            allSent &= sent >= rev;
            published[chatId] = sent;
            marks[chatId] = sent;
        }

        await MarkPublishedAsync(db, marks, cancellationToken);
        if (published.Count > MaxTrackedChats)
        {
            // Chats this leader no longer knows read their position from the database again.
            published.Clear();
        }

        _scanRequested |= moreWaiting;
        return allSent;
    }

    /// <summary>Reads from the log what the fast path did not bring, in rev order per chat, after what is published.</summary>
    private static async Task<bool> RecoverAsync(
        ChatDbContext db, Dictionary<Guid, long> published, Dictionary<Guid, long> planned, HashSet<Guid> recover, bool scan,
        List<Outgoing> outgoing, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        var positions = new List<(Guid ChatId, long PublishedRev, long Rev)>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT id, published_rev, rev FROM chats WHERE rev > published_rev AND (@scan OR id = ANY(@ids))
            ORDER BY id LIMIT @limit
            """, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<bool>("scan", scan));
            command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. recover]));
            command.Parameters.Add(new NpgsqlParameter<int>("limit", MaxRecoveredChats));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                positions.Add((reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2)));
            }
        }

        var moreWaiting = positions.Count == MaxRecoveredChats;
        foreach (var (chatId, publishedRev, rev) in positions)
        {
            // Published by this leader already, or as far as the database says: whichever is further.
            var from = Math.Max(publishedRev, published.GetValueOrDefault(chatId));
            published[chatId] = from;
            if (rev <= from)
            {
                // Everything is out; only the mark is missing (it is written below).
                planned[chatId] = from;
                continue;
            }

            outgoing.RemoveAll(item => item.ChatId == chatId);
            var (changes, hasMore) = await ChangeReader.ReadAsync(db, chatId, from, ReadPageSize, cancellationToken);
            moreWaiting |= hasMore;
            foreach (var change in changes)
            {
                // The trace kept with the change in the log: the same whichever replica made it, however late.
                outgoing.Add(new Outgoing(change.ChatId, change.Rev, change.Type, change.UserId, change.Seq, change.Frame, change.Cause));
            }

            planned[chatId] = changes.Count > 0 ? changes[^1].Rev : from;
        }

        return moreWaiting;
    }

    /// <summary>
    /// Issues every publish before awaiting any (StackExchange.Redis writes them in order on one
    /// connection). Returns, per chat, the highest rev up to which every publish succeeded.
    /// </summary>
    private async Task<Dictionary<Guid, long>> SendAsync(List<Outgoing> outgoing, CancellationToken cancellationToken)
    {
        var subscriber = redis.GetSubscriber();
        var sends = new List<(Outgoing Item, Task Publish)>(outgoing.Count);
        foreach (var item in outgoing)
        {
            var channel = Channels.Chat(item.ChatId);
            using var activity = EventEnvelopeTracing.StartPublishActivity(ChatTelemetry.Source, channel, EventTypes.ChatChange, item.Cause);
            activity?.SetTag("yac.chat.id", item.ChatId.ToString("D"));
            activity?.SetTag("yac.change.rev", item.Rev);
            var payload = ChangeEnvelopes.Write(item.ChatId, item.Rev, item.Type, item.UserId, item.Seq, item.Frame.Span, activity?.Context ?? item.Cause);
            Task publish = subscriber.PublishAsync(RedisChannel.Literal(channel), payload);
            if (item.Type == ChangeTypes.MemberJoined && item.UserId is { } userId)
            {
                publish = Task.WhenAll(publish, subscriber.PublishAsync(RedisChannel.Literal(Channels.User(userId)), payload));
            }

            sends.Add((item, publish));
        }

        var reached = new Dictionary<Guid, long>();
        var failed = new HashSet<Guid>();
        foreach (var (item, publish) in sends)
        {
            try
            {
                await publish.WaitAsync(cancellationToken);
                if (!failed.Contains(item.ChatId))
                {
                    reached[item.ChatId] = item.Rev;
                    ChatTelemetry.EventsPublished.Add(1);
                }
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                if (failed.Add(item.ChatId))
                {
                    LogPublishFailed(item.ChatId, item.Rev, exception);
                }
            }
        }

        return reached;
    }

    private static async Task MarkPublishedAsync(ChatDbContext db, Dictionary<Guid, long> reached, CancellationToken cancellationToken)
    {
        reached = reached.Where(pair => pair.Value > 0).ToDictionary();
        if (reached.Count == 0)
        {
            return;
        }

        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            UPDATE chats SET published_rev = s.rev
            FROM unnest(@ids, @revs) AS s(id, rev)
            WHERE chats.id = s.id AND chats.published_rev < s.rev
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", [.. reached.Keys]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("revs", [.. reached.Values]));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A replica that is not the leader tells the leader of its commits (coalesced: one NOTIFY per wake).</summary>
    private async Task NotifyOthersAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in _notifyOthers.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var command = dataSource.CreateCommand($"NOTIFY {NotifyChannel}");
                    await command.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (NpgsqlException exception)
                {
                    // The leader's poll finds the change anyway, a little later.
                    LogNotifyFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WaitForWakeAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record Outgoing(Guid ChatId, long Rev, string Type, Guid? UserId, long? Seq, ReadOnlyMemory<byte> Frame, ActivityContext Cause);

    [LoggerMessage(Level = LogLevel.Information, Message = "This replica publishes the chats' change logs")]
    private partial void LogLeading();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing change logs stopped on this replica; standing by")]
    private partial void LogLeadershipLost(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing change {Rev} of chat {ChatId} failed; it goes out again")]
    private partial void LogPublishFailed(Guid chatId, long rev, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown came before every queued change was published; the next leader publishes them from the log")]
    private partial void LogDrainIncomplete(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling the publishing replica of a commit failed; its poll finds the change")]
    private partial void LogNotifyFailed(Exception exception);
}
