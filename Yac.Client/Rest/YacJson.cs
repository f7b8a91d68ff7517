using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Yac.Client.Session;

namespace Yac.Client;

/// <summary>Every type YAC's client reads or writes, serialized by source generation (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(YacUser))]
[JsonSerializable(typeof(List<YacUser>))]
[JsonSerializable(typeof(YacTokens))]
[JsonSerializable(typeof(YacChat))]
[JsonSerializable(typeof(List<YacChatSummary>))]
[JsonSerializable(typeof(YacMessage))]
[JsonSerializable(typeof(YacMessagePage))]
[JsonSerializable(typeof(YacCreateChat))]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(RegisterBody))]
[JsonSerializable(typeof(LoginBody))]
[JsonSerializable(typeof(RefreshBody))]
[JsonSerializable(typeof(SendBody))]
[JsonSerializable(typeof(ReadBody))]
[JsonSerializable(typeof(EditBody))]
[JsonSerializable(typeof(UpdateChatBody))]
[JsonSerializable(typeof(SearchResults))]
[JsonSerializable(typeof(ChangesPage))]
[JsonSerializable(typeof(HelloFrame))]
[JsonSerializable(typeof(AckFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(MessageFrame))]
[JsonSerializable(typeof(ReadFrame))]
[JsonSerializable(typeof(TypingFrame))]
[JsonSerializable(typeof(PresenceFrame))]
[JsonSerializable(typeof(MemberFrame))]
[JsonSerializable(typeof(MessageUpdatedFrame))]
[JsonSerializable(typeof(ChatUpdatedFrame))]
[JsonSerializable(typeof(ResumedFrame))]
[JsonSerializable(typeof(AuthOkFrame))]
[JsonSerializable(typeof(OutgoingSend))]
[JsonSerializable(typeof(OutgoingRead))]
[JsonSerializable(typeof(OutgoingTyping))]
[JsonSerializable(typeof(OutgoingResume))]
[JsonSerializable(typeof(OutgoingPing))]
[JsonSerializable(typeof(OutgoingAuth))]
internal sealed partial class YacJson : JsonSerializerContext
{
    /// <summary>
    /// The context the client uses: non-ASCII text is written as UTF-8, not <c>\uXXXX</c>, so a
    /// 4,000-character message stays well inside the gateway's 16 KiB frame limit.
    /// </summary>
    public static YacJson Wire { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

internal sealed record ProblemBody(int? Status, string? Title, string? Detail, Dictionary<string, string[]>? Errors);

internal sealed record RegisterBody(string Username, string Password, string? DisplayName);

internal sealed record LoginBody(string Username, string Password, string? DeviceName);

internal sealed record RefreshBody(string RefreshToken);

internal sealed record SendBody(string ClientMsgId, string Text, long? ReplyToSeq = null);

internal sealed record EditBody(string Text);

internal sealed record UpdateChatBody(string? Title, string? Visibility);

/// <summary>v1.1's <c>GET /api/search</c>.</summary>
internal sealed record SearchResults(List<YacMessage> Results);

internal sealed record ReadBody(long Seq);

/// <summary>v1.1's <c>GET /api/chats/{id}/changes</c>: each change is the frame that announced it.</summary>
internal sealed record ChangesPage(List<JsonElement> Changes, bool HasMore);
