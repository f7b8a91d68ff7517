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
    /// How long a seq gap may stay open before history is fetched (events of one chat can arrive a
    /// little out of order; most gaps close by themselves within milliseconds).
    /// </summary>
    public TimeSpan GapFillDelay { get; set; } = TimeSpan.FromMilliseconds(150);
}
