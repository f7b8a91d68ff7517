using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Yac.ChatService.Events;

/// <summary>The service's activity source and meter (exported by ServiceDefaults: names start with "Yac.").</summary>
public static class ChatTelemetry
{
    public const string Name = "Yac.ChatService";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    public static readonly Counter<long> MessagesStored = s_meter.CreateCounter<long>(
        "yac.chat.messages.stored", description: "Messages committed (idempotent retries not counted).");

    public static readonly Histogram<int> CommitBatchSize = s_meter.CreateHistogram<int>(
        "yac.chat.commit.batch_size", unit: "{message}", description: "Sends committed together in one transaction (group commit).");

    public static readonly Histogram<double> CommitDuration = s_meter.CreateHistogram<double>(
        "yac.chat.commit.duration", unit: "s", description: "Time to commit one batch of sends, WAL flush included.");

    public static readonly Counter<long> EventsPublished = s_meter.CreateCounter<long>(
        "yac.chat.events.published", description: "Events published on Redis.");

    public static readonly Counter<long> EventsDropped = s_meter.CreateCounter<long>(
        "yac.chat.events.dropped", description: "Events not published (queue full or Redis failing); clients recover them from history.");
}
