using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Yac.Bench.Load;

namespace Yac.Bench.Systems.Yac;

/// <summary>YAC's public contract (docs/api.md): <c>/ws</c> with a bearer token, <c>hello</c>, <c>send</c>, <c>ack</c>, <c>message</c>.</summary>
public sealed class YacWireProtocol : IChatWireProtocol
{
    private static readonly byte[] s_ping = """{"type":"ping"}"""u8.ToArray();

    public ReadOnlyMemory<byte> OpeningFrame => ReadOnlyMemory<byte>.Empty;

    public ReadOnlyMemory<byte> PingFrame => s_ping;

    public TimeSpan PingInterval => TimeSpan.FromSeconds(15);

    public Uri GetSocketUri(Uri server, BenchClient client)
    {
        var builder = new UriBuilder(server) { Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws", Path = "/ws" };
        return builder.Uri;
    }

    public void Configure(ClientWebSocketOptions options, BenchClient client) =>
        options.SetRequestHeader("Authorization", $"Bearer {client.AccessToken}");

    public byte[] EncodeSend(string chatId, string clientMsgId, string text)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "send"u8);
            writer.WriteString("chatId"u8, chatId);
            writer.WriteString("clientMsgId"u8, clientMsgId);
            writer.WriteString("text"u8, text);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public void Parse(ReadOnlySpan<byte> message, IFrameHandler handler)
    {
        var reader = new Utf8JsonReader(message);
        ReadOnlySpan<byte> type = default;
        ReadOnlySpan<byte> clientMsgId = default;
        string? code = null;
        string? detail = null;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
            {
                continue;
            }

            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.ValueSpan;
            }
            else if (reader.ValueTextEquals("clientMsgId"u8) || reader.ValueTextEquals("ref"u8))
            {
                reader.Read();
                clientMsgId = reader.ValueSpan;
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                code = reader.GetString();
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                detail = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (type.SequenceEqual("message"u8))
        {
            handler.OnMessage(clientMsgId);
        }
        else if (type.SequenceEqual("ack"u8))
        {
            handler.OnAck(clientMsgId);
        }
        else if (type.SequenceEqual("hello"u8))
        {
            handler.OnReady();
        }
        else if (type.SequenceEqual("error"u8))
        {
            handler.OnError(code ?? "error", detail ?? Encoding.UTF8.GetString(message));
        }
    }
}
