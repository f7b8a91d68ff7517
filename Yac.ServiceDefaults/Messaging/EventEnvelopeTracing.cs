using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Yac.Contracts;

namespace Yac.ServiceDefaults.Messaging;

/// <summary>
/// Builds and reads <see cref="EventEnvelope"/>s with W3C trace context, so a trace follows an
/// event across the Redis hop: the publisher's Producer activity becomes the parent of every
/// subscriber's Consumer activity. Tags follow the OpenTelemetry messaging conventions; the event
/// body is never a tag.
/// </summary>
public static class EventEnvelopeTracing
{
    /// <summary>
    /// Starts the Producer activity of publishing <paramref name="eventType"/> on <paramref name="channel"/>,
    /// child of <paramref name="parent"/> (of the current activity when none is given: a publisher
    /// that runs apart from the request that caused the event passes that request's context).
    /// </summary>
    public static Activity? StartPublishActivity(ActivitySource source, string channel, string eventType, ActivityContext parent = default)
    {
        var activity = source.StartActivity($"publish {eventType}", ActivityKind.Producer, parent);
        SetMessagingTags(activity, channel, eventType, "publish");
        return activity;
    }

    /// <summary>An envelope around <paramref name="data"/> that carries the current activity's trace context.</summary>
    public static EventEnvelope CreateEnvelope<T>(string eventType, T data, JsonTypeInfo<T> typeInfo) =>
        CreateEnvelope(eventType, JsonSerializer.SerializeToElement(data, typeInfo), Activity.Current?.Context ?? default);

    /// <summary>An envelope around already serialized <paramref name="data"/> that carries <paramref name="traceContext"/> (none if default).</summary>
    public static EventEnvelope CreateEnvelope(string eventType, JsonElement data, ActivityContext traceContext)
    {
        string? traceParent = null;
        string? traceState = null;
        if (traceContext != default)
        {
            var carrier = new Dictionary<string, string>(StringComparer.Ordinal);
            Propagators.DefaultTextMapPropagator.Inject(
                new PropagationContext(traceContext, Baggage.Current),
                carrier,
                static (headers, name, value) => headers[name] = value);
            traceParent = carrier.GetValueOrDefault("traceparent");
            traceState = carrier.GetValueOrDefault("tracestate");
        }

        return new EventEnvelope(EventEnvelope.CurrentVersion, eventType, traceParent, traceState, data);
    }

    /// <summary>Starts the Consumer activity of handling <paramref name="envelope"/>, child of the publisher's.</summary>
    public static Activity? StartReceiveActivity(ActivitySource source, string channel, EventEnvelope envelope)
    {
        var carrier = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["traceparent"] = envelope.TraceParent,
            ["tracestate"] = envelope.TraceState,
        };
        var parent = Propagators.DefaultTextMapPropagator.Extract(
            default,
            carrier,
            static (headers, name) => headers.TryGetValue(name, out var value) && value is not null ? [value] : []);
        Baggage.Current = parent.Baggage;
        var activity = source.StartActivity($"process {envelope.Type}", ActivityKind.Consumer, parent.ActivityContext);
        SetMessagingTags(activity, channel, envelope.Type, "process");
        return activity;
    }

    private static void SetMessagingTags(Activity? activity, string channel, string eventType, string operation)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("messaging.system", "redis");
        activity.SetTag("messaging.destination.name", channel);
        activity.SetTag("messaging.operation.type", operation);
        activity.SetTag("yac.event.type", eventType);
    }
}
