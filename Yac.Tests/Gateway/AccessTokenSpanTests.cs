using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Yac.Tests.Infrastructure;

namespace Yac.Tests.Gateway;

/// <summary>
/// The spans of an app built on Yac.ServiceDefaults (as every YAC service is), with real HTTP in and
/// out, configured as Aspire's AppHost configures services in development: with the
/// OpenTelemetry instrumentations' own query redaction turned off.
/// </summary>
public sealed class AccessTokenSpanTests
{
    [Theory]
    [InlineData("room=7&access_token={0}&lang=en")]
    [InlineData("room=7&ACCESS_TOKEN={0}")]
    [InlineData("room=7&access_token={0}?access_token={0}&access_token={0}")]
    public async Task AccessTokenInAQueryNeverReachesServerOrClientSpans(string queryFormat)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var secret = $"eyJ{Guid.NewGuid():N}";
        var query = string.Format(System.Globalization.CultureInfo.InvariantCulture, queryFormat, secret);
        var path = $"/probe/{Guid.NewGuid():N}";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true",
            ["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.MapGet(path, () => "ok");
        await app.StartAsync(timeout.Token);
        try
        {
            using var http = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
            http.Timeout = TestHttp.Timeout;
            var answer = await http.GetStringAsync($"{app.Urls.First()}{path}?{query}", timeout.Token);
            Assert.Equal("ok", answer);
        }
        finally
        {
            await app.StopAsync(timeout.Token);
        }

        var probeSpans = spans.Where(span => span.TagObjects.Any(tag => tag.Value is string value && value.Contains(path, StringComparison.Ordinal))).ToList();
        var server = Assert.Single(probeSpans, span => span.Kind == ActivityKind.Server);
        Assert.Contains(probeSpans, span => span.Kind == ActivityKind.Client);
        foreach (var span in probeSpans)
        {
            Assert.DoesNotContain(span.TagObjects, tag => tag.Value is string value && value.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, span.DisplayName, StringComparison.Ordinal);
        }

        // What is not secret stays readable.
        var recordedQuery = server.GetTagItem("url.query") as string;
        Assert.NotNull(recordedQuery);
        Assert.Contains("room=7", recordedQuery, StringComparison.Ordinal);
        Assert.Contains("access_token=Redacted", recordedQuery, StringComparison.OrdinalIgnoreCase);
    }
}
