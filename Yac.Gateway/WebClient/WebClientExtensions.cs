using Microsoft.AspNetCore.StaticFiles;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Serves the bundled chat page (<c>wwwroot/</c>) at <c>/</c>, on the same origin as <c>/api</c> and
/// <c>/ws</c>, with the security headers a page that shows other people's text needs.
/// </summary>
public static class WebClientExtensions
{
    /// <summary>
    /// The page's files have no content hash in their names (no build step), so the browser must
    /// revalidate them on every load; the ETag makes that a cheap 304.
    /// </summary>
    private const string RevalidateAlways = "no-cache";

    public static IApplicationBuilder UseWebClient(this IApplicationBuilder app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            ContentTypeProvider = CreateContentTypeProvider(),
            OnPrepareResponse = context => AddPageHeaders(context.Context),
        });
        return app;
    }

    private static FileExtensionContentTypeProvider CreateContentTypeProvider()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings[".js"] = "text/javascript; charset=utf-8";
        provider.Mappings[".css"] = "text/css; charset=utf-8";
        provider.Mappings[".html"] = "text/html; charset=utf-8";
        provider.Mappings[".webmanifest"] = "application/manifest+json";
        return provider;
    }

    private static void AddPageHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = RevalidateAlways;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = BuildContentSecurityPolicy(context.Request);
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
    }

    /// <summary>
    /// Scripts and styles only from files of this origin (no inline script, no eval), and network
    /// access only back to this origin: REST over http(s) and the socket over ws(s). Browsers
    /// older than CSP 3 do not count ws: as 'self', so the socket's origin is named explicitly.
    /// </summary>
    private static string BuildContentSecurityPolicy(HttpRequest request)
    {
        var host = request.Host;
        var socketSources = host.HasValue ? $" ws://{host.Value} wss://{host.Value}" : "";
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
            "font-src 'self'; manifest-src 'self'; " +
            $"connect-src 'self'{socketSources}; " +
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
    }
}
