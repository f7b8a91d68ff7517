using System.Text.Json;
using Yac.ServiceDefaults.Validation;

namespace Yac.Gateway.Protocol;

/// <summary>A client frame, parsed and checked for the fields its type needs.</summary>
internal abstract record ClientFrame(string Type);

/// <summary><paramref name="ReplyToSeq"/>: the optional <c>replyToSeq</c> (ChatService checks that the chat has it).</summary>
internal sealed record SendFrame(Guid ChatId, string ClientMsgId, string Text, long? ReplyToSeq = null) : ClientFrame("send");

internal sealed record ReadFrame(Guid ChatId, long Seq) : ClientFrame("read");

internal sealed record TypingFrame(Guid ChatId) : ClientFrame("typing");

/// <summary><c>chats</c>: last seen seq per chat (v1); <c>revs</c>: last seen rev per chat (v1.1). Either may be empty.</summary>
internal sealed record ResumeFrame(IReadOnlyDictionary<Guid, long> Chats, IReadOnlyDictionary<Guid, long> Revs) : ClientFrame("resume");

/// <summary><paramref name="RawId"/> is the <c>id</c> as the client wrote it (any JSON value), echoed in <c>pong</c>.</summary>
internal sealed record PingFrame(string? RawId) : ClientFrame("ping");

internal sealed record AuthFrame(string AccessToken) : ClientFrame("auth");

/// <summary>Why a frame was refused, and the <c>ref</c> to answer with (a send's clientMsgId) if it had one.</summary>
internal sealed record FrameError(string Message, string? Reference);

/// <summary>
/// Reads client frames. Never throws for anything a client can send: every failure is a
/// <see cref="FrameError"/> (answered <c>bad_request</c>). A send's text and clientMsgId follow the
/// same <see cref="TextRules"/> as ChatService's REST endpoint, so a bad send is refused here and
/// never reaches ChatService's group commit.
/// </summary>
internal static class ClientFrameParser
{
    // The contract's limits on a send (the same as ChatService's).
    public const int TextMaxLength = 4000;
    public const int ClientMsgIdMaxLength = 64;

    // The parser sees at most MaxFrameBytes; this depth is plenty for the contract's frames.
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 8 };

    public static ClientFrame? Parse(ReadOnlyMemory<byte> utf8, out FrameError? error)
    {
        try
        {
            return ParseDocument(utf8, out error);
        }
        catch (InvalidOperationException)
        {
            // JsonElement.GetString (and a property's Name) throws for escapes that are not Unicode,
            // e.g. a lone surrogate "\ud800": the JSON is well-formed, the string is not text.
            error = new FrameError("The frame holds a string that is not valid Unicode (a lone surrogate).", null);
            return null;
        }
    }

    private static ClientFrame? ParseDocument(ReadOnlyMemory<byte> utf8, out FrameError? error)
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
                "ping" => ParsePing(root, out error),
                "auth" => ParseAuth(root, out error),
                _ => Fail($"Unknown frame type '{Truncate(type)}'.", null, out error),
            };
        }
    }

    private static SendFrame? ParseSend(JsonElement root, out FrameError? error)
    {
        var clientMsgId = TryGetString(root, "clientMsgId", out var unreadable);
        if (clientMsgId is null)
        {
            return Fail<SendFrame>(
                unreadable
                    ? TextRules.Describe(TextProblem.LoneSurrogate, "clientMsgId", 1, ClientMsgIdMaxLength)
                    : $"'clientMsgId' must be a string of 1-{ClientMsgIdMaxLength} characters.",
                null,
                out error);
        }

        if (TextRules.CheckIdentifier(clientMsgId, 1, ClientMsgIdMaxLength) is var idProblem and not TextProblem.None)
        {
            // Not echoed in ref: it is not a clientMsgId the client could match an answer to.
            return Fail<SendFrame>(TextRules.Describe(idProblem, "clientMsgId", 1, ClientMsgIdMaxLength), null, out error);
        }

        var reference = clientMsgId;
        if (!TryGetGuid(root, "chatId", out var chatId))
        {
            return Fail<SendFrame>("'chatId' must be a chat id.", reference, out error);
        }

        var text = TryGetString(root, "text", out unreadable);
        if (text is null)
        {
            return Fail<SendFrame>(unreadable ? TextRules.Describe(TextProblem.LoneSurrogate, "text", 1, TextMaxLength) : "'text' must be a string.", reference, out error);
        }

        if (TextRules.CheckText(text, 1, TextMaxLength) is var textProblem and not TextProblem.None)
        {
            return Fail<SendFrame>(TextRules.Describe(textProblem, "text", 1, TextMaxLength), reference, out error);
        }

        long? replyToSeq = null;
        if (root.TryGetProperty("replyToSeq", out var replyElement) && replyElement.ValueKind != JsonValueKind.Null)
        {
            if (replyElement.ValueKind != JsonValueKind.Number || !replyElement.TryGetInt64(out var replyTo) || replyTo < 1)
            {
                return Fail<SendFrame>("'replyToSeq' must be a positive integer (a seq of the chat) or null.", reference, out error);
            }

            replyToSeq = replyTo;
        }

        error = null;
        return new SendFrame(chatId, clientMsgId, text, replyToSeq);
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
        var hasChats = root.TryGetProperty("chats", out var chatsElement);
        var hasRevs = root.TryGetProperty("revs", out var revsElement);
        if (!hasChats && !hasRevs)
        {
            return Fail<ResumeFrame>("'chats' (chat id -> last seen seq) or 'revs' (chat id -> last seen rev) is required.", null, out error);
        }

        Dictionary<Guid, long> chats = [], revs = [];
        if ((hasChats && !TryReadPositions(chatsElement, chats)) || (hasRevs && !TryReadPositions(revsElement, revs)))
        {
            return Fail<ResumeFrame>("'chats' and 'revs' must be objects mapping chat ids to non-negative integers.", null, out error);
        }

        error = null;
        return new ResumeFrame(chats, revs);
    }

    private static bool TryReadPositions(JsonElement element, Dictionary<Guid, long> positions)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!Guid.TryParse(property.Name, out var chatId) || !property.Value.TryGetInt64(out var position) || position < 0)
            {
                return false;
            }

            positions[chatId] = position;
        }

        return true;
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

    /// <summary>
    /// A ping's <c>id</c> is echoed as written, so it must be one a client can read back: no string
    /// in it (nor any property name) may hold a lone surrogate (<c>"\ud800"</c> is valid JSON syntax
    /// but not Unicode, and JSON readers refuse to return it).
    /// </summary>
    private static PingFrame? ParsePing(JsonElement root, out FrameError? error)
    {
        if (!root.TryGetProperty("id", out var id))
        {
            error = null;
            return new PingFrame(null);
        }

        return IsReadable(id)
            ? Succeed(new PingFrame(id.GetRawText()), out error)
            : Fail<PingFrame>(TextRules.Describe(TextProblem.LoneSurrogate, "id", 0, int.MaxValue), null, out error);
    }

    private static T Succeed<T>(T frame, out FrameError? error)
    {
        error = null;
        return frame;
    }

    /// <summary>True when every string and property name in <paramref name="element"/> is well-formed Unicode.</summary>
    private static bool IsReadable(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!IsReadable(item))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        if (!IsReadable(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string? GetString(JsonElement root, string name) => TryGetString(root, name, out _);

    /// <summary>The string property, or null if it is missing, not a string, or (<paramref name="unreadable"/>) not valid Unicode.</summary>
    private static string? TryGetString(JsonElement root, string name, out bool unreadable)
    {
        unreadable = false;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            unreadable = true;
            return null;
        }
    }

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

    /// <summary>At most 32 characters of a client's string for an error message, never splitting a surrogate pair.</summary>
    private static string Truncate(string? value)
    {
        if (value is null || value.Length <= 32)
        {
            return value ?? "";
        }

        return char.IsHighSurrogate(value[31]) ? value[..31] : value[..32];
    }
}
