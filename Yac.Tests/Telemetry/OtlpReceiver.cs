using System.Globalization;
using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yac.Tests.Telemetry.Otlp;

namespace Yac.Tests.Telemetry;

/// <summary>A span as an OTLP backend shows it, with the service (and replica) that exported it.</summary>
public sealed record ReceivedSpan(
    string Service,
    string Instance,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    SpanKind Kind,
    IReadOnlyDictionary<string, string> Attributes,
    IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public string? Attribute(string key) => Attributes.GetValueOrDefault(key);
}

/// <summary>
/// The latest exported value of one metric series: a counter's or gauge's value, or a histogram's
/// count and sum. Exports are cumulative, so the latest value is the total so far.
/// </summary>
public sealed record ReceivedMetric(
    string Service,
    string Instance,
    string Name,
    IReadOnlyDictionary<string, string> Attributes,
    double Value,
    ulong Count);

/// <summary>
/// An OTLP/HTTP (protobuf) receiver in the test process: the services export their traces and
/// metrics here exactly as they would to a collector or the Aspire dashboard, and tests wait for
/// what an operator would look for. Logs are accepted and dropped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string ProtobufContentType = "application/x-protobuf";

    private readonly Lock _lock = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly Dictionary<string, ReceivedMetric> _metrics = new(StringComparer.Ordinal);
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;

    /// <summary>The base address for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (exporters add <c>/v1/traces</c> and so on).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            Add(ExportTraceServiceRequest.Parser.ParseFrom(await ReadBodyAsync(request)));
            return Results.Bytes(Array.Empty<byte>(), ProtobufContentType);
        });
        _app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            Add(ExportMetricsServiceRequest.Parser.ParseFrom(await ReadBodyAsync(request)));
            return Results.Bytes(Array.Empty<byte>(), ProtobufContentType);
        });
        _app.MapPost("/v1/logs", () => Results.Bytes(Array.Empty<byte>(), ProtobufContentType));
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Endpoint = new Uri(address);
    }

    public IReadOnlyList<ReceivedSpan> Spans
    {
        get
        {
            lock (_lock)
            {
                return [.. _spans];
            }
        }
    }

    public IReadOnlyList<ReceivedMetric> Metrics
    {
        get
        {
            lock (_lock)
            {
                return [.. _metrics.Values];
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="probe"/> finds what it looks for in what has arrived (checked
    /// again after every export), and returns it; fails with <paramref name="what"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task<T> WaitForAsync<T>(Func<OtlpReceiver, T?> probe, string what, TimeSpan timeout, CancellationToken cancellationToken)
        where T : class
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        while (true)
        {
            Task next;
            lock (_lock)
            {
                next = _received.Task;
            }

            if (probe(this) is { } found)
            {
                return found;
            }

            try
            {
                await next.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Assert.Fail($"No telemetry showed {what} within {timeout.TotalSeconds} s");
            }
        }
    }

    /// <summary>The sum, over every instance of <paramref name="service"/>, of the latest value of <paramref name="metric"/>'s series that match.</summary>
    public double Total(string service, string metric, Func<ReceivedMetric, bool>? where = null) =>
        Metrics.Where(point => point.Service == service && point.Name == metric && (where is null || where(point))).Sum(point => point.Value);

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        if (request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            await using var gzip = new GZipStream(request.Body, CompressionMode.Decompress);
            await gzip.CopyToAsync(body, request.HttpContext.RequestAborted);
        }
        else
        {
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        }

        return body.ToArray();
    }

    private void Add(ExportTraceServiceRequest export)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var resourceSpans in export.ResourceSpans)
        {
            var (service, instance) = Identify(resourceSpans.Resource);
            foreach (var span in resourceSpans.ScopeSpans.SelectMany(scope => scope.Spans))
            {
                spans.Add(new ReceivedSpan(
                    service, instance, Hex(span.TraceId), Hex(span.SpanId), Hex(span.ParentSpanId), span.Name, span.Kind,
                    ToDictionary(span.Attributes),
                    [.. span.Links.Select(link => (Hex(link.TraceId), Hex(link.SpanId)))]));
            }
        }

        lock (_lock)
        {
            _spans.AddRange(spans);
            Signal();
        }
    }

    private void Add(ExportMetricsServiceRequest export)
    {
        var points = new List<ReceivedMetric>();
        foreach (var resourceMetrics in export.ResourceMetrics)
        {
            var (service, instance) = Identify(resourceMetrics.Resource);
            foreach (var metric in resourceMetrics.ScopeMetrics.SelectMany(scope => scope.Metrics))
            {
                switch (metric.DataCase)
                {
                    case Metric.DataOneofCase.Sum:
                        points.AddRange(metric.Sum.DataPoints.Select(point => Number(service, instance, metric.Name, point)));
                        break;
                    case Metric.DataOneofCase.Gauge:
                        points.AddRange(metric.Gauge.DataPoints.Select(point => Number(service, instance, metric.Name, point)));
                        break;
                    case Metric.DataOneofCase.Histogram:
                        points.AddRange(metric.Histogram.DataPoints.Select(point =>
                            new ReceivedMetric(service, instance, metric.Name, ToDictionary(point.Attributes), point.Sum, point.Count)));
                        break;
                    case Metric.DataOneofCase.None:
                    default:
                        break;
                }
            }
        }

        lock (_lock)
        {
            foreach (var point in points)
            {
                var series = string.Join('|', new[] { point.Service, point.Instance, point.Name }
                    .Concat(point.Attributes.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value}")));
                _metrics[series] = point;
            }

            Signal();
        }
    }

    private static ReceivedMetric Number(string service, string instance, string name, NumberDataPoint point) =>
        new(service, instance, name, ToDictionary(point.Attributes),
            point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble, Count: 1);

    private void Signal()
    {
        var received = _received;
        _received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        received.TrySetResult();
    }

    private static (string Service, string Instance) Identify(Resource? resource)
    {
        var attributes = ToDictionary(resource?.Attributes ?? []);
        return (attributes.GetValueOrDefault("service.name", ""), attributes.GetValueOrDefault("service.instance.id", ""));
    }

    private static Dictionary<string, string> ToDictionary(IEnumerable<KeyValue> attributes)
    {
        var dictionary = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            dictionary[attribute.Key] = attribute.Value?.ValueCase switch
            {
                AnyValue.ValueOneofCase.StringValue => attribute.Value.StringValue,
                AnyValue.ValueOneofCase.BoolValue => attribute.Value.BoolValue ? "true" : "false",
                AnyValue.ValueOneofCase.IntValue => attribute.Value.IntValue.ToString(CultureInfo.InvariantCulture),
                AnyValue.ValueOneofCase.DoubleValue => attribute.Value.DoubleValue.ToString(CultureInfo.InvariantCulture),
                _ => "",
            };
        }

        return dictionary;
    }

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
