using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Yac.Client;

/// <summary>
/// The client's traces and metrics. Add <see cref="Name"/> to your OpenTelemetry setup
/// (<c>AddSource("Yac.Client")</c>, <c>AddMeter("Yac.Client")</c>). REST calls are traced by
/// HttpClient itself and carry W3C <c>traceparent</c> into YAC's traces; socket frames carry no
/// trace context in the contract, so <c>yac.send</c> spans end at the ack.
/// </summary>
public static class YacClientTelemetry
{
    /// <summary>The ActivitySource and Meter name: <c>Yac.Client</c>.</summary>
    public const string Name = "Yac.Client";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    internal static readonly Counter<long> Reconnects = s_meter.CreateCounter<long>(
        "yac.client.reconnects", unit: "{reconnect}", description: "Sockets opened after the session's first one.");

    internal static readonly Counter<long> ResentSends = s_meter.CreateCounter<long>(
        "yac.client.sends.resent", unit: "{send}", description: "Sends put on a socket again with the same clientMsgId (after a reconnect or a refusal).");

    internal static readonly Counter<long> GapFills = s_meter.CreateCounter<long>(
        "yac.client.gap_fills", unit: "{fill}", description: "Missing ranges of a chat read over REST.");

    internal static readonly Counter<long> DuplicatesDropped = s_meter.CreateCounter<long>(
        "yac.client.duplicates_dropped", unit: "{frame}", description: "Frames of a position already delivered (replays after a reconnect).");

    internal static readonly Histogram<double> SendDuration = s_meter.CreateHistogram<double>(
        "yac.client.send.duration", unit: "ms", description: "From SendAsync to the ack.");
}
