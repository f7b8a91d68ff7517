using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Yac.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The cross-cutting setup every YAC service shares: telemetry, health, service discovery,
/// resilient HttpClients and problem details.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>
    /// Whether the service can serve its API: every check but Redis's (a service without Redis still
    /// serves; what it publishes waits in its log). What the gateway probes to fail fast.
    /// </summary>
    public const string ServingEndpointPath = "/health/serving";

    /// <summary>How long <see cref="ServingEndpointPath"/> waits for its checks before it answers "busy" (200).</summary>
    public static readonly TimeSpan ServingChecksBudget = TimeSpan.FromSeconds(1);

    /// <summary>Meters and activity sources whose names start with this are exported.</summary>
    public const string TelemetryPrefix = "Yac.";

    private const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Unreadable requests throw in every environment (not only Development), so that
        // BadRequestExceptionHandler answers them all the same way, with a detail.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddAspNetCoreInstrumentation(options =>
                {
                    // Probes would drown the traces that matter.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath);
                    options.EnrichWithHttpRequest = (activity, _) => AccessTokenRedaction.RedactTag(activity, "url.query");
                })
                .AddHttpClientInstrumentation(options =>
                    options.EnrichWithHttpRequestMessage = (activity, _) => AccessTokenRedaction.RedactTag(activity, "url.full")));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (ready: every registered check, PostgreSQL and Redis included),
    /// <c>/health/serving</c> (every check but Redis's: what callers probe) and <c>/alive</c>
    /// (liveness: the process answers). All are served in every environment because they are
    /// what an orchestrator and the gateway probe.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapGet(ServingEndpointPath, ServingAsync).ExcludeFromDescription();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
        });
        return app;
    }

    /// <summary>
    /// Problem details for everything that goes wrong: unhandled exceptions become 500 problem
    /// details (never a stack trace), bare status codes (401, 404, 405) get a problem body too.
    /// </summary>
    public static WebApplication UseDefaultProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// 503 when a check fails (the database refuses), 200 when they pass, and 200 "Busy" when they
    /// take longer than <see cref="ServingChecksBudget"/>: the process answered, so it is alive, and
    /// a swamped database (a login flood opening connections) makes a service slow, not down.
    /// </summary>
    private static async Task ServingAsync(HttpContext context, HealthCheckService health)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        budget.CancelAfter(ServingChecksBudget);
        HealthReport? report;
        try
        {
            report = await health.CheckHealthAsync(check => !check.Name.Contains("redis", StringComparison.OrdinalIgnoreCase), budget.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            report = null;
        }

        // A check cut by the budget may also come back as a failed entry rather than as the exception.
        if (report is null || (budget.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested))
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsJsonAsync(new HealthResponse("Busy", []), HealthJsonContext.Default.HealthResponse, cancellationToken: context.RequestAborted);
            return;
        }

        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        await WriteHealthAsync(context, report);
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        // Statuses only: descriptions and exceptions can name hosts and are not for the public edge.
        var entries = report.Entries.ToDictionary(entry => entry.Key, entry => entry.Value.Status.ToString());
        return context.Response.WriteAsJsonAsync(
            new HealthResponse(report.Status.ToString(), entries),
            HealthJsonContext.Default.HealthResponse,
            cancellationToken: context.RequestAborted);
    }
}
