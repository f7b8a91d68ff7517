using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Yac.Gateway.Chats;
using Yac.Gateway.Delivery;
using Yac.Gateway.Protocol;
using Yac.ServiceDefaults.Authentication;

namespace Yac.Gateway.Sockets;

/// <summary><c>GET /ws</c>: the contract's WebSocket, authenticated before the upgrade.</summary>
internal static partial class WebSocketApi
{
    public const string Path = "/ws";
    private const string AccessTokenQueryName = "access_token";
    private static readonly TimeSpan s_subscribeWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapWebSocketApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, ConnectAsync);
        return app;
    }

    internal sealed record Services(
        IAccessTokenValidator TokenValidator,
        ChatServiceClient ChatService,
        WsPool Pool,
        SocketLeases Leases,
        ClientFrameHandler FrameHandler,
        GatewayIdentity Gateway,
        IOptions<GatewayOptions> Options,
        TimeProvider Time,
        ILoggerFactory LoggerFactory);

    private static async Task<Results<EmptyHttpResult, UnauthorizedHttpResult, ProblemHttpResult>> ConnectAsync(
        HttpContext context, [AsParameters] Services services)
    {
        // What the handshake needed (the parsed token, its claims, the chat list) stays in
        // OpenAsync's frame, which ends here: only the connection lives as long as the socket.
        var (connection, lease, rejection) = await OpenAsync(context, services);
        if (connection is null)
        {
            return rejection!;
        }

        // The socket's place under the per-user and per-device caps, given back however it ends.
        await using var held = lease;

        // A socket lives for hours: its frames must not all belong to the upgrade request's span (each
        // send frame starts a trace of its own). Set here: a change of Activity.Current inside
        // OpenAsync would not reach this method.
        Activity.Current = null;
        using (connection)
        {
            try
            {
                // From here on its frames are read: a resume sent after hello is seen within the window.
                await services.Pool.ListeningAsync(connection);
                await connection.RunAsync(
                    (client, frame) => services.FrameHandler.HandleAsync(client, frame, context.RequestAborted),
                    context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
            }
            finally
            {
                await services.Pool.UnregisterAsync(connection);
            }
        }

        return TypedResults.Empty;
    }

    /// <summary>Authenticates, takes the socket's lease, upgrades and registers the socket with the pool; or says why not.</summary>
    private static async Task<(ClientConnection? Connection, SocketLease? Lease, Results<EmptyHttpResult, UnauthorizedHttpResult, ProblemHttpResult>? Rejection)> OpenAsync(
        HttpContext context, Services services)
    {
        var options = services.Options.Value;
        if (!IsOriginAllowed(context.Request, options))
        {
            // A page on another site must not use the browser's ambient access to open a socket here.
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Origin not allowed",
                detail: "This origin may not open the WebSocket."));
        }

        var token = ReadToken(context.Request);
        if (token is null)
        {
            return (null, null, Unauthorized(context));
        }

        var validation = await services.TokenValidator.ValidateAsync(token, context.RequestAborted);
        if (!validation.IsValid)
        {
            return (null, null, Unauthorized(context));
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Not a WebSocket request",
                detail: "GET /ws upgrades to a WebSocket."));
        }

        // Before the chat list and the subscriptions, which are what a socket costs.
        var (lease, refused) = await services.Leases.TryAcquireAsync(validation.UserId, validation.DeviceId, context.RequestAborted);
        if (lease is null)
        {
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many sockets",
                detail: refused == SocketLimit.PerDevice
                    ? $"This device has {options.MaxSocketsPerDevice} sockets open already; close one first."
                    : $"This user has {options.MaxSocketsPerUser} sockets open already; close one first."));
        }

        try
        {
            var (connection, rejection) = await UpgradeAsync(context, services, token, validation);
            if (connection is null)
            {
                await lease.DisposeAsync();
            }

            return (connection, connection is null ? null : lease, rejection);
        }
        catch
        {
            await lease.DisposeAsync();
            throw;
        }
    }

    /// <summary>Reads the user's chats, upgrades and registers the socket with the pool; or says why not.</summary>
    private static async Task<(ClientConnection? Connection, Results<EmptyHttpResult, UnauthorizedHttpResult, ProblemHttpResult>? Rejection)> UpgradeAsync(
        HttpContext context, Services services, string token, AccessTokenValidationResult validation)
    {
        var options = services.Options.Value;
        var chats = await services.ChatService.GetChatsAsync(token, context.RequestAborted);
        if (chats.Status == ChatCallStatus.Unauthorized)
        {
            return (null, Unauthorized(context));
        }

        if (chats.Status != ChatCallStatus.Ok)
        {
            context.Response.Headers.RetryAfter = "1";
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Chats unavailable",
                detail: "The chat service cannot be reached; retry shortly."));
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync();

        var connection = new ClientConnection(
            socket, validation.UserId, validation.DeviceId, token, validation.ExpiresAt, options, services.Time,
            services.LoggerFactory.CreateLogger<ClientConnection>());
        // First in the queue, so first on the wire.
        connection.TryEnqueue(ServerFrames.Hello(
            connection.UserId, connection.DeviceId, connection.Id, services.Gateway.Id, options.HeartbeatSeconds));
        try
        {
            var subscribed = await services.Pool.RegisterAsync(connection, chats.Value!);
            // Live messages flow once Redis confirmed the subscriptions; a slow Redis only delays
            // them (the pool catches up from history), it does not keep the client waiting forever.
            await subscribed.WaitAsync(s_subscribeWait, context.RequestAborted);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away during the handshake; RunAsync ends at once and unregisters.
        }

        return (connection, null);
    }

    private static UnauthorizedHttpResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Unauthorized();
    }

    /// <summary>The token from <c>Authorization: Bearer</c>, else from <c>?access_token=</c> (browsers cannot set headers on a WebSocket).</summary>
    private static string? ReadToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var headerToken = authorization["Bearer ".Length..].Trim();
            return headerToken.Length > 0 ? headerToken : null;
        }

        var queryToken = request.Query[AccessTokenQueryName].ToString();
        return queryToken.Length > 0 ? queryToken : null;
    }

    /// <summary>No Origin (not a browser), the gateway's own origin, or one of <see cref="GatewayOptions.AllowedOrigins"/>.</summary>
    private static bool IsOriginAllowed(HttpRequest request, GatewayOptions options)
    {
        var origin = request.Headers[HeaderNames.Origin].ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        var ownOrigin = $"{request.Scheme}://{request.Host}";
        return string.Equals(origin, ownOrigin, StringComparison.OrdinalIgnoreCase)
            || options.AllowedOrigins.Any(allowed => string.Equals(origin, allowed.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>True for the WebSocket path, whose query may hold an access token that nothing may record.</summary>
    public static bool IsWebSocketPath(PathString path) => path.StartsWithSegments(Path);
}
