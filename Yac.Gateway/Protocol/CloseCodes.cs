using System.Net.WebSockets;

namespace Yac.Gateway.Protocol;

/// <summary>The contract's close codes that <see cref="WebSocketCloseStatus"/> does not name.</summary>
internal static class CloseCodes
{
    /// <summary>1012: graceful shutdown; reconnect elsewhere.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>1013: the client did not read and its send queue overflowed.</summary>
    public const WebSocketCloseStatus TooSlow = (WebSocketCloseStatus)1013;

    /// <summary>4001: the device session was revoked (logout).</summary>
    public const WebSocketCloseStatus SessionRevoked = (WebSocketCloseStatus)4001;

    /// <summary>4002: the access token expired without an <c>auth</c> swap.</summary>
    public const WebSocketCloseStatus TokenExpired = (WebSocketCloseStatus)4002;
}
