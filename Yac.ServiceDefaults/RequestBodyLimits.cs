using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Caps on request bodies: a few times the largest valid body of the service, so that a client
/// cannot make a service buffer megabytes of JSON it will refuse anyway. A larger body is answered
/// 413 problem details. <c>Yac:MaxRequestBodyBytes</c> overrides a service's cap.
/// </summary>
public static class RequestBodyLimits
{
    public const string ConfigurationKey = "Yac:MaxRequestBodyBytes";

    /// <summary>Every request body of this service: at most <paramref name="defaultMaxBytes"/> (or the configured cap).</summary>
    public static TBuilder LimitRequestBodies<TBuilder>(this TBuilder builder, long defaultMaxBytes)
        where TBuilder : IHostApplicationBuilder
    {
        var maxBytes = builder.Configuration.GetValue(ConfigurationKey, defaultMaxBytes);
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = maxBytes);
        return builder;
    }

    /// <summary>This endpoint's own cap, instead of the service's (routing applies it before the body is read).</summary>
    public static TBuilder WithRequestBodyLimit<TBuilder>(this TBuilder builder, long maxBytes)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new RequestSizeLimit(maxBytes));

    private sealed record RequestSizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
