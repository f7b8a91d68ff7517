namespace Yac.Gateway.Sockets;

/// <summary>The WebSocket edge's settings, bound from <c>Yac:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Yac:Gateway";

    /// <summary>
    /// Browser origins (<c>scheme://host[:port]</c>) allowed to open <c>/ws</c> besides the gateway's own.
    /// Requests without an <c>Origin</c> header (non-browser clients) are always allowed.
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>The largest client frame; a larger one closes the socket with 1009.</summary>
    public int MaxFrameBytes { get; set; } = 16 * 1024;

    /// <summary>Frames waiting for a socket; when a slow client lets it overflow, its socket is closed with 1013.</summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>How often clients should ping (announced in <c>hello</c>); also the server's keep-alive.</summary>
    public int HeartbeatSeconds { get; set; } = 30;

    /// <summary>Sustained <c>send</c>/<c>typing</c> frames per second per socket; more get <c>rate_limited</c>.</summary>
    public double SendsPerSecond { get; set; } = 50;

    /// <summary>How many <c>send</c>/<c>typing</c> frames a socket may burst above the sustained rate.</summary>
    public int SendBurst { get; set; } = 100;

    /// <summary>
    /// <c>send</c> and <c>read</c> frames of one socket waiting for ChatService (besides the one in
    /// flight); one more is answered <c>rate_limited</c> at once. As large as <see cref="SendBurst"/>, so
    /// a client that keeps at most this many sends unanswered never sees it.
    /// </summary>
    public int MaxQueuedChatCalls { get; set; } = 100;

    /// <summary>Open sockets per user, over every device and gateway replica; one more is refused with 429 before the upgrade.</summary>
    public int MaxSocketsPerUser { get; set; } = 50;

    /// <summary>Open sockets per device (one login), over every gateway replica; one more is refused with 429 before the upgrade.</summary>
    public int MaxSocketsPerDevice { get; set; } = 25;

    /// <summary>
    /// How long a socket's place under those caps outlives its replica's last renewal (renewed every
    /// third of it): the leases of a replica that died free their places within this long.
    /// </summary>
    public TimeSpan SocketLeaseLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>resume</c> frames per socket per minute (one at a time besides); more get <c>rate_limited</c>.</summary>
    public int ResumesPerMinute { get; set; } = 6;

    /// <summary>Bad frames tolerated per <see cref="BadFrameWindow"/> before the socket is closed with 1008.</summary>
    public int BadFrameLimit { get; set; } = 20;

    public TimeSpan BadFrameWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a closing handshake may take before the socket is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a slow consumer has to take its 1013 close frame (it must first read what the kernel
    /// already holds for it) before its socket is aborted. Only that socket waits.
    /// </summary>
    public TimeSpan SlowConsumerCloseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a rev gap may stay open before the chat's log is read (changes of one chat can arrive
    /// a little out of order; most gaps close by themselves within milliseconds).
    /// </summary>
    public TimeSpan GapFillDelay { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>The longest wait between two reads of a gap while the log cannot be read (it is never skipped).</summary>
    public TimeSpan GapFillMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the gateway asks for the latest rev of all its chats, so quiet chats converge too.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each replica renews its presence heartbeat in Redis.</summary>
    public TimeSpan PresenceHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a replica's heartbeat lives: a replica that died takes its users offline within this
    /// plus one <see cref="PresenceHeartbeatInterval"/>. At least twice the interval.
    /// </summary>
    public TimeSpan PresenceHeartbeatTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a new socket's chats wait for its <c>resume</c> once the gateway reads its frames: a
    /// resume sent right after <c>hello</c> then replays in rev order before anything live, so the
    /// socket sees no change ahead of the ones it missed. What arrived meanwhile goes out when the
    /// window ends, or at once on the socket's first <c>send</c>, <c>read</c> or <c>typing</c>. Zero: live at once.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether calls to a service the probes found down are refused at once (REST 503, socket sends
    /// <c>unavailable</c>, the upgrade 503) and calls in flight to it are cut. Off by default: under a
    /// login flood on a busy 2-core machine a swamped Identity missed its probes for seconds and was
    /// taken for dead (logins answered 503). The probes and their <c>/health</c> entries run either way.
    /// </summary>
    public bool FailFastWhileDown { get; set; }

    /// <summary>How often the gateway probes each service it calls (ChatService, Identity); see <c>DependencyMonitor</c>.</summary>
    public TimeSpan DependencyProbeInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one probe may take; one that takes longer failed.</summary>
    public TimeSpan DependencyProbeTimeout { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// Failed probes in a row (with no answered call in between) that take a service down: calls to it
    /// are then refused at once (503, <c>unavailable</c>) until it answers again. It must also have
    /// answered no call for a probe's span (timeout plus interval): a busy service is not down.
    /// </summary>
    public int DependencyFailuresToDown { get; set; } = 2;

    /// <summary>After a Redis reconnect, the catch-ups of every local chat are spread over this long.</summary>
    public TimeSpan ReconnectCatchUpSpread { get; set; } = TimeSpan.FromSeconds(2);
}
