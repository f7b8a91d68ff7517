using System.Buffers;
using System.Text.Json;
using Yac.Contracts;

namespace Yac.Gateway.Protocol;

/// <summary>
/// Server-to-client frames, written straight to UTF-8 bytes. A frame is built once and the same
/// bytes go to every socket that receives it.
/// </summary>
internal static class ServerFrames
{
    public static ReadOnlyMemory<byte> Hello(Guid userId, Guid deviceId, string connectionId, string gatewayId, int heartbeatSeconds) =>
        Write(writer =>
        {
            writer.WriteString("type", "hello");
            writer.WriteString("userId", userId);
            writer.WriteString("deviceId", deviceId);
            writer.WriteString("connectionId", connectionId);
            writer.WriteString("gatewayId", gatewayId);
            writer.WriteNumber("heartbeatSeconds", heartbeatSeconds);
        });

    public static ReadOnlyMemory<byte> Ack(string clientMsgId, MessageCreatedEvent message) =>
        Write(writer =>
        {
            writer.WriteString("type", "ack");
            writer.WriteString("clientMsgId", clientMsgId);
            writer.WriteString("chatId", message.ChatId);
            writer.WriteString("messageId", message.Id);
            writer.WriteNumber("seq", message.Seq);
            writer.WriteString("sentAt", message.SentAt.UtcDateTime);
        });

    public static ReadOnlyMemory<byte> Message(MessageCreatedEvent message) =>
        Write(writer =>
        {
            writer.WriteString("type", "message");
            writer.WriteString("chatId", message.ChatId);
            writer.WriteNumber("seq", message.Seq);
            writer.WriteString("id", message.Id);
            writer.WriteString("senderId", message.SenderId);
            writer.WriteString("text", message.Text);
            writer.WriteString("sentAt", message.SentAt.UtcDateTime);
            writer.WriteString("clientMsgId", message.ClientMsgId);
        });

    public static ReadOnlyMemory<byte> Read(Guid chatId, Guid userId, long seq) =>
        Write(writer =>
        {
            writer.WriteString("type", "read");
            writer.WriteString("chatId", chatId);
            writer.WriteString("userId", userId);
            writer.WriteNumber("seq", seq);
        });

    public static ReadOnlyMemory<byte> Typing(Guid chatId, Guid userId) => ChatUser("typing", chatId, userId);

    public static ReadOnlyMemory<byte> MemberJoined(Guid chatId, Guid userId) => ChatUser("memberJoined", chatId, userId);

    public static ReadOnlyMemory<byte> MemberLeft(Guid chatId, Guid userId) => ChatUser("memberLeft", chatId, userId);

    public static ReadOnlyMemory<byte> Presence(Guid userId, bool online) =>
        Write(writer =>
        {
            writer.WriteString("type", "presence");
            writer.WriteString("userId", userId);
            writer.WriteBoolean("online", online);
        });

    /// <summary><c>pong</c>, echoing the ping's <c>id</c> exactly as the client wrote it (any JSON value).</summary>
    public static ReadOnlyMemory<byte> Pong(string? rawId) =>
        Write(writer =>
        {
            writer.WriteString("type", "pong");
            if (rawId is not null)
            {
                writer.WritePropertyName("id");
                writer.WriteRawValue(rawId, skipInputValidation: true);
            }
        });

    public static ReadOnlyMemory<byte> AuthOk(long expiresInSeconds) =>
        Write(writer =>
        {
            writer.WriteString("type", "authOk");
            writer.WriteNumber("expiresIn", expiresInSeconds);
        });

    /// <summary><c>resumed</c>: the last seq of every chat resumed, and (v1.1) its rev where <c>revs</c> named it.</summary>
    public static ReadOnlyMemory<byte> Resumed(IEnumerable<KeyValuePair<Guid, long>> chats, IEnumerable<KeyValuePair<Guid, long>> revs) =>
        Write(writer =>
        {
            writer.WriteString("type", "resumed");
            writer.WriteStartObject("chats");
            foreach (var (chatId, lastSeq) in chats)
            {
                writer.WriteNumber(chatId.ToString("D"), lastSeq);
            }

            writer.WriteEndObject();
            writer.WriteStartObject("revs");
            foreach (var (chatId, rev) in revs)
            {
                writer.WriteNumber(chatId.ToString("D"), rev);
            }

            writer.WriteEndObject();
        });

    /// <summary>A <c>memberLeft</c> the gateway saw only as a refusal (no rev: the log could not be read for it any more).</summary>
    public static ReadOnlyMemory<byte> MemberLeftWithoutRev(Guid chatId, Guid userId) => ChatUser("memberLeft", chatId, userId);

    public static ReadOnlyMemory<byte> Error(string code, string message, string? reference = null) =>
        Write(writer =>
        {
            writer.WriteString("type", "error");
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            if (reference is not null)
            {
                writer.WriteString("ref", reference);
            }
        });

    private static ReadOnlyMemory<byte> ChatUser(string type, Guid chatId, Guid userId) =>
        Write(writer =>
        {
            writer.WriteString("type", type);
            writer.WriteString("chatId", chatId);
            writer.WriteString("userId", userId);
        });

    private static byte[] Write(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        // Exactly sized, immutable from here on: shared by every socket it goes to.
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>The contract's error codes.</summary>
internal static class ErrorCodes
{
    public const string BadRequest = "bad_request";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string RateLimited = "rate_limited";
    public const string Unavailable = "unavailable";
}
