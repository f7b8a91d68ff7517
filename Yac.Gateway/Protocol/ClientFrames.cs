using System.Text.Json;

namespace Yac.Gateway.Protocol;

/// <summary>A client frame, parsed and checked for the fields its type needs.</summary>
internal abstract record ClientFrame(string Type);

internal sealed record SendFrame(Guid ChatId, string ClientMsgId, string Text) : ClientFrame("send");

internal sealed record ReadFrame(Guid ChatId, long Seq) : ClientFrame("read");

internal sealed record TypingFrame(Guid ChatId) : ClientFrame("typing");

internal sealed record ResumeFrame(IReadOnlyDictionary<Guid, long> Chats) : ClientFrame("resume");

/// <summary><paramref name="RawId"/> is the <c>id</c> as the client wrote it (any JSON value), echoed in <c>pong</c>.</summary>
internal sealed record PingFrame(string? RawId) : ClientFrame("ping");

internal sealed record AuthFrame(string AccessToken) : ClientFrame("auth");

/// <summary>Why a frame was refused, and the <c>ref</c> to answer with (a send's clientMsgId) if it had one.</summary>
internal sealed record FrameError(string Message, string? Reference);

internal static class ClientFrameParser
{
    // The parser sees at most MaxFrameBytes; this depth is plenty for the contract's frames.
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 8 };

    public static ClientFrame? Parse(ReadOnlyMemory<byte> utf8, out FrameError? error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, s_options);
        }
        catch (JsonException)
        {
            error = new FrameError("The frame is not JSON.", null);
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = new FrameError("A frame is a JSON object.", null);
                return null;
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                error = new FrameError("The frame has no string 'type'.", null);
                return null;
            }

            var type = typeElement.GetString();
            error = null;
            return type switch
            {
                "send" => ParseSend(root, out error),
                "read" => ParseRead(root, out error),
                "typing" => ParseTyping(root, out error),
                "resume" => ParseResume(root, out error),
                "ping" => new PingFrame(root.TryGetProperty("id", out var id) ? id.GetRawText() : null),
                "auth" => ParseAuth(root, out error),
                _ => Fail($"Unknown frame type '{Truncate(type)}'.", null, out error),
            };
        }
    }

    private static SendFrame? ParseSend(JsonElement root, out FrameError? error)
    {
        var clientMsgId = GetString(root, "clientMsgId");
        if (clientMsgId is null || clientMsgId.Length is 0 or > 64)
        {
            return Fail<SendFrame>("'clientMsgId' must be a string of 1-64 characters.", null, out error);
        }

        var reference = clientMsgId;
        if (!TryGetGuid(root, "chatId", out var chatId))
        {
            return Fail<SendFrame>("'chatId' must be a chat id.", reference, out error);
        }

        var text = GetString(root, "text");
        if (text is null)
        {
            return Fail<SendFrame>("'text' must be a string.", reference, out error);
        }

        error = null;
        return new SendFrame(chatId, clientMsgId, text);
    }

    private static ReadFrame? ParseRead(JsonElement root, out FrameError? error)
    {
        if (!TryGetGuid(root, "chatId", out var chatId))
        {
            return Fail<ReadFrame>("'chatId' must be a chat id.", null, out error);
        }

        if (!root.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var seq) || seq < 0)
        {
            return Fail<ReadFrame>("'seq' must be a non-negative integer.", null, out error);
        }

        error = null;
        return new ReadFrame(chatId, seq);
    }

    private static TypingFrame? ParseTyping(JsonElement root, out FrameError? error)
    {
        if (!TryGetGuid(root, "chatId", out var chatId))
        {
            return Fail<TypingFrame>("'chatId' must be a chat id.", null, out error);
        }

        error = null;
        return new TypingFrame(chatId);
    }

    private static ResumeFrame? ParseResume(JsonElement root, out FrameError? error)
    {
        if (!root.TryGetProperty("chats", out var chatsElement) || chatsElement.ValueKind != JsonValueKind.Object)
        {
            return Fail<ResumeFrame>("'chats' must be an object of chat id -> last seen seq.", null, out error);
        }

        var chats = new Dictionary<Guid, long>();
        foreach (var property in chatsElement.EnumerateObject())
        {
            if (!Guid.TryParse(property.Name, out var chatId)
                || !property.Value.TryGetInt64(out var lastSeen)
                || lastSeen < 0)
            {
                return Fail<ResumeFrame>("'chats' must map chat ids to non-negative integers.", null, out error);
            }

            chats[chatId] = lastSeen;
        }

        error = null;
        return new ResumeFrame(chats);
    }

    private static AuthFrame? ParseAuth(JsonElement root, out FrameError? error)
    {
        var token = GetString(root, "accessToken");
        if (string.IsNullOrEmpty(token))
        {
            return Fail<AuthFrame>("'accessToken' must be a string.", null, out error);
        }

        error = null;
        return new AuthFrame(token);
    }

    private static string? GetString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    private static bool TryGetGuid(JsonElement root, string name, out Guid value)
    {
        value = default;
        return GetString(root, name) is { } text && Guid.TryParse(text, out value);
    }

    private static ClientFrame? Fail(string message, string? reference, out FrameError? error) =>
        Fail<ClientFrame>(message, reference, out error);

    private static T? Fail<T>(string message, string? reference, out FrameError? error)
        where T : class
    {
        error = new FrameError(message, reference);
        return null;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 32 ? value : value[..32];
}
