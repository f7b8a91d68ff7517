using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Yac.Bench.Systems.Yac;

/// <summary>
/// YAC's telemetry as a deployment at this load would run it: every meter on, traces for a share of
/// messages (parent-based, so a traced message is traced end to end through every service), and no
/// exporter, since no collector runs on the bench machine (the baseline exports nothing either).
/// Without this the services inherit the AppHost's development settings: every span of every message
/// recorded and sent once a second to a dashboard endpoint that does not exist in the bench.
/// </summary>
public static class YacTelemetry
{
    public const double DefaultTraceRatio = 0.01;

    public static void Configure(IResourceBuilder<ProjectResource> project, double traceRatio) => project
        .WithEnvironment("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
        .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", traceRatio.ToString(CultureInfo.InvariantCulture))
        .WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
}
