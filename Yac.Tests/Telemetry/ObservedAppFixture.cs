using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Telemetry;

/// <summary>
/// An app of its own, watched the way an operator watches it: every service exports traces and
/// metrics over OTLP/HTTP to <see cref="Telemetry"/>, a receiver in the test process, on short
/// intervals. Destructive too (its tests stop Redis), so it is not shared with other collections.
/// </summary>
public sealed class ObservedAppFixture : YacAppFixture
{
    /// <summary>What the services exported so far.</summary>
    public OtlpReceiver Telemetry { get; } = new();

    public override async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Telemetry.StartAsync(timeout.Token);
        await base.InitializeAsync();
    }

    protected override void ConfigureApp(IDistributedApplicationTestingBuilder builder)
    {
        // Set after Aspire's own OTLP settings (and the base fixture's "none"), so these win.
        var endpoint = Telemetry.Endpoint.GetLeftPart(UriPartial.Authority);
        foreach (var service in ServiceNames)
        {
            builder.CreateResourceBuilder<ProjectResource>(service)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200")
                .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "500");
        }

        // The socket pool's delivery decisions in the gateway's log, for a test that finds a socket without its message.
        builder.CreateResourceBuilder<ProjectResource>("gateway").WithEnvironment("Logging__LogLevel__Yac.Gateway.Delivery", "Debug");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Telemetry.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ObservedAppCollection : ICollectionFixture<ObservedAppFixture>
{
    public const string Name = "YAC app exporting telemetry to the test, whose Redis is stopped";
}
