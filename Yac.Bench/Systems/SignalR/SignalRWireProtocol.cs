using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Yac.Bench.Load;

namespace Yac.Bench.Systems.SignalR;

/// <summary>
/// SignalR's JSON hub protocol spoken over a raw WebSocket (skipping negotiation, as the official
/// clients do with <c>SkipNegotiation</c>): records end in 0x1E; a handshake first; invocations with
/// an id are answered by a completion, which serves as the baseline's ack.
/// </summary>
public sealed class SignalRWireProtocol : IChatWireProtocol
{
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] s_handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] s_ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    public ReadOnlyMemory<byte> OpeningFrame => s_handshake;

    public ReadOnlyMemory<byte> PingFrame => s_ping;

    /// <summary>SignalR's default: the server drops a client silent for 30 s; its clients ping every 15 s.</summary>
    public TimeSpan PingInterval => TimeSpan.FromSeconds(15);

    public Uri GetSocketUri(Uri server, BenchClient client)
    {
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Path = "/chat",
            Query = $"chats={Uri.EscapeDataString(client.ChatId)}&user={Uri.EscapeDataString(client.UserId)}",
        };
        return builder.Uri;
    }

    public void Configure(ClientWebSocketOptions options, BenchClient client)
    {
    }

    public byte[] EncodeSend(string chatId, string clientMsgId, string text)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("type"u8, 1);
            writer.WriteString("invocationId"u8, clientMsgId);
            writer.WriteString("target"u8, "Send"u8);
            writer.WriteStartArray("arguments"u8);
            writer.WriteStringValue(chatId);
            writer.WriteStringValue(clientMsgId);
            writer.WriteStringValue(text);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        buffer.Write([RecordSeparator]);
        return buffer.WrittenSpan.ToArray();
    }

    public void Parse(ReadOnlySpan<byte> message, IFrameHandler handler)
    {
        while (!message.IsEmpty)
        {
            var end = message.IndexOf(RecordSeparator);
            var record = end < 0 ? message : message[..end];
            ParseRecord(record, handler);
            message = end < 0 ? [] : message[(end + 1)..];
        }
    }

    private static void ParseRecord(ReadOnlySpan<byte> record, IFrameHandler handler)
    {
        var reader = new Utf8JsonReader(record);
        var type = 0;
        ReadOnlySpan<byte> clientMsgId = default;
        ReadOnlySpan<byte> invocationId = default;
        string? error = null;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetInt32();
            }
            else if (reader.CurrentDepth == 1 && reader.ValueTextEquals("invocationId"u8))
            {
                reader.Read();
                invocationId = reader.ValueSpan;
            }
            else if (reader.CurrentDepth == 1 && reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = reader.GetString();
            }
            else if (reader.ValueTextEquals("clientMsgId"u8))
            {
                reader.Read();
                clientMsgId = reader.ValueSpan;
            }
        }

        switch (type)
        {
            case 0 when error is null:
                handler.OnReady();
                break;
            case 0:
                handler.OnError("handshake", error);
                break;
            case 1:
                handler.OnMessage(clientMsgId);
                break;
            case 3 when error is null:
                handler.OnAck(invocationId);
                break;
            case 3:
                handler.OnError("invocation", error);
                break;
            case 7:
                handler.OnError("close", error ?? "closed by server");
                break;
            default:
                break;
        }
    }
}
