using System.Buffers;
using System.Text.Json;
using Yac.ChatService.Chats;
using Yac.ChatService.Messages;

namespace Yac.ChatService.Changes;

/// <summary>
/// Renders a change as the frame that announces it (docs/api.md): the same bytes go on Redis, to
/// every socket, and into <c>GET .../changes</c>. A message frame is the REST message object with
/// <c>type</c> and <c>rev</c> in front, so whatever the message gains, its frames gain too.
/// </summary>
public static class ChangeFrames
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary><c>{type: "message", rev, ...message}</c> for the change that created <paramref name="message"/>.</summary>
    public static byte[] Message(MessageResponse message, long rev) => Write(writer =>
    {
        writer.WriteString("type", ChangeTypes.Message);
        writer.WriteNumber("rev", rev);
        foreach (var property in JsonSerializer.SerializeToElement(message, s_json).EnumerateObject())
        {
            property.WriteTo(writer);
        }
    });

    /// <summary><c>{type: "messageUpdated", chatId, rev, message}</c>: the message as it is now.</summary>
    public static byte[] MessageUpdated(MessageResponse message, long rev) => Write(writer =>
    {
        writer.WriteString("type", ChangeTypes.MessageUpdated);
        writer.WriteString("chatId", message.ChatId);
        writer.WriteNumber("rev", rev);
        writer.WritePropertyName("message");
        JsonSerializer.Serialize(writer, message, s_json);
    });

    /// <summary><c>{type: "memberJoined" | "memberLeft", chatId, userId, rev}</c>.</summary>
    public static byte[] Member(string type, Guid chatId, Guid userId, long rev) => Write(writer =>
    {
        writer.WriteString("type", type);
        writer.WriteString("chatId", chatId);
        writer.WriteString("userId", userId);
        writer.WriteNumber("rev", rev);
    });

    /// <summary><c>{type: "chatUpdated", chatId, rev, chat}</c>: the chat as it is now.</summary>
    public static byte[] ChatUpdated(ChatResponse chat, long rev) => Write(writer =>
    {
        writer.WriteString("type", ChangeTypes.ChatUpdated);
        writer.WriteString("chatId", chat.Id);
        writer.WriteNumber("rev", rev);
        writer.WritePropertyName("chat");
        JsonSerializer.Serialize(writer, chat, s_json);
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

        return buffer.WrittenSpan.ToArray();
    }
}
