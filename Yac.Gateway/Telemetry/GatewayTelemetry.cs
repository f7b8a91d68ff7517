using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Yac.Gateway.Telemetry;

/// <summary>The gateway's activity source and meter (exported because their names start with <c>Yac.</c>).</summary>
internal static class GatewayTelemetry
{
    public const string Name = "Yac.Gateway";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter s_meter = new(Name);

    public static readonly UpDownCounter<long> OpenSockets = s_meter.CreateUpDownCounter<long>(
        "yac.gateway.sockets.open", unit: "{socket}", description: "WebSockets open on this replica.");

    public static readonly Counter<long> FramesReceived = s_meter.CreateCounter<long>(
        "yac.gateway.frames.received", unit: "{frame}", description: "Client frames received, by type.");

    public static readonly Counter<long> FramesSent = s_meter.CreateCounter<long>(
        "yac.gateway.frames.sent", unit: "{frame}", description: "Frames written to sockets.");

    public static readonly Counter<long> Deliveries = s_meter.CreateCounter<long>(
        "yac.gateway.deliveries", unit: "{message}", description: "Live message frames written to sockets.");

    public static readonly Histogram<double> DeliveryLatency = s_meter.CreateHistogram<double>(
        "yac.gateway.delivery.latency", unit: "ms",
        description: "From a message's commit (sentAt) to its write on a socket.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });

    public static readonly Counter<long> SlowConsumerCloses = s_meter.CreateCounter<long>(
        "yac.gateway.slow_consumer.closes", unit: "{socket}", description: "Sockets closed with 1013 because their send queue overflowed.");

    public static readonly Counter<long> RedisReconnects = s_meter.CreateCounter<long>(
        "yac.gateway.redis.reconnects", unit: "{reconnect}", description: "Redis subscription connection restored.");

    public static readonly Histogram<int> SendBatchSize = s_meter.CreateHistogram<int>(
        "yac.gateway.send.batch_size", unit: "{message}", description: "Sends carried to ChatService in one request.");

    public static readonly Counter<long> GapFills = s_meter.CreateCounter<long>(
        "yac.gateway.gap_fills", unit: "{fetch}", description: "History fetches that closed a seq gap in a chat's live stream.");
}
