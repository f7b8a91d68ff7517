using Yarp.ReverseProxy.Forwarder;

namespace Yac.Gateway.Proxy;

/// <summary>
/// The step of the REST proxy's pipeline that keeps bodies within the service's cap
/// (<see cref="ProxyRoutes.BodyCapOf"/>): a request declaring a larger body is answered 413
/// problem details before anything is forwarded, and one whose body of unknown length passes the
/// cap as it is read (the route's <c>MaxRequestBodySize</c>) is answered the same way. Without it
/// the service refuses the body before reading it and closes the connection under the forwarder
/// still writing it, which the client would see as the service failing.
/// </summary>
internal static class BodyCapGate
{
    public static IReverseProxyApplicationBuilder UseBodyCaps(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            var cap = ProxyRoutes.BodyCapOf(context.GetReverseProxyFeature().Route.Config.ClusterId);
            if (context.Request.ContentLength > cap)
            {
                await TooLargeAsync(context, cap);
                return;
            }

            await next();
            if (!context.Response.HasStarted
                && context.Features.Get<IForwarderErrorFeature>() is { Error: ForwarderError.RequestBodyClient, Exception: BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } })
            {
                await TooLargeAsync(context, cap);
            }
        });
        return proxy;
    }

    private static Task TooLargeAsync(HttpContext context, long cap)
    {
        context.Response.Clear();
        return TypedResults.Problem(
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Request body too large",
            detail: $"This request's body may be at most {cap} bytes.").ExecuteAsync(context);
    }
}
