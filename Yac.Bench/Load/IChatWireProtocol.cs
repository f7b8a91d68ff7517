using System.Net.WebSockets;

namespace Yac.Bench.Load;

/// <summary>How one chat system speaks over its WebSocket, as far as the load generator needs it.</summary>
public interface IChatWireProtocol
{
    /// <summary>The socket address for <paramref name="client"/> on one server instance.</summary>
    Uri GetSocketUri(Uri server, BenchClient client);

    /// <summary>Headers the handshake needs (the access token for YAC).</summary>
    void Configure(ClientWebSocketOptions options, BenchClient client);

    /// <summary>What the client sends first (SignalR's protocol handshake); empty if nothing.</summary>
    ReadOnlyMemory<byte> OpeningFrame { get; }

    /// <summary>The application-level keep-alive the server expects from an idle client.</summary>
    ReadOnlyMemory<byte> PingFrame { get; }

    TimeSpan PingInterval { get; }

    /// <summary>One chat message as a frame; <paramref name="clientMsgId"/> comes back in the ack and every delivery.</summary>
    byte[] EncodeSend(string chatId, string clientMsgId, string text);

    /// <summary>Reads one complete WebSocket text message and reports what it carried.</summary>
    void Parse(ReadOnlySpan<byte> message, IFrameHandler handler);
}

/// <summary>What a parsed frame means to the load generator.</summary>
public interface IFrameHandler
{
    /// <summary>The server accepted the session (YAC's <c>hello</c>, SignalR's handshake reply).</summary>
    void OnReady();

    /// <summary>A chat message was delivered to this socket.</summary>
    void OnMessage(ReadOnlySpan<byte> clientMsgId);

    /// <summary>The server confirmed a send (YAC's <c>ack</c>, SignalR's completion).</summary>
    void OnAck(ReadOnlySpan<byte> clientMsgId);

    /// <summary>The server refused something; <paramref name="code"/> names why.</summary>
    void OnError(string code, string detail);
}
