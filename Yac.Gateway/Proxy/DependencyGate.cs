using Yac.Gateway.Dependencies;
using Yarp.ReverseProxy.Forwarder;

namespace Yac.Gateway.Proxy;

/// <summary>
/// The step of the REST proxy's pipeline that fails fast: with
/// <see cref="Sockets.GatewayOptions.FailFastWhileDown"/>, a request for a service that is down
/// (<see cref="DependencyMonitor"/>) is answered 503 problem details with <c>Retry-After: 1</c> at
/// once, and one in flight when its service goes down is ended then and answered the same way; and
/// always, a failure of the forwarder itself (the service refused or dropped the connection, or timed out) is
/// that 503 too, instead of a bare 502/504. What the service answered, and what the forwarder
/// refused as the client's own fault (a body too large, a client that went away), is left as it is.
/// </summary>
internal static class DependencyGate
{
    public static IReverseProxyApplicationBuilder UseDependencyGate(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            var monitor = context.RequestServices.GetRequiredService<DependencyMonitor>();
            var dependency = monitor.ForCluster(context.GetReverseProxyFeature().Route.Config.ClusterId);
            if (dependency is null)
            {
                await next();
                return;
            }

            var aborted = context.RequestAborted;
            if (monitor.FailFast && !await dependency.IsAvailableAsync(aborted))
            {
                await UnavailableAsync(context, dependency);
                return;
            }

            using var whileAvailable = CancellationTokenSource.CreateLinkedTokenSource(
                aborted, monitor.FailFast ? dependency.WhileAvailable : CancellationToken.None);
            context.RequestAborted = whileAvailable.Token;
            try
            {
                await next();
            }
            finally
            {
                context.RequestAborted = aborted;
            }

            if (context.Response.HasStarted || aborted.IsCancellationRequested)
            {
                return;
            }

            var cut = whileAvailable.IsCancellationRequested;
            if (cut || IsForwarderFailure(context))
            {
                await UnavailableAsync(context, dependency);
            }
            else if (context.Response.StatusCode < StatusCodes.Status500InternalServerError)
            {
                dependency.RecordSuccess();
            }
        });
        return proxy;
    }

    /// <summary>The forwarder could not get an answer from the service (not: the client's request was at fault).</summary>
    private static bool IsForwarderFailure(HttpContext context) =>
        context.Features.Get<IForwarderErrorFeature>() is { } error
        && error.Error is not (ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled or ForwarderError.ResponseBodyClient)
        && context.Response.StatusCode >= StatusCodes.Status500InternalServerError;

    private static Task UnavailableAsync(HttpContext context, Dependency dependency)
    {
        context.Response.Clear();
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Service unavailable",
            detail: $"The {dependency.Name} service is not answering; try again shortly.").ExecuteAsync(context);
    }
}
