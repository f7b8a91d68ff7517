using System.Text.Json;
using System.Text.Json.Serialization;

namespace Yac.Client.Session;

// The gateway's frames as the client reads them (shared/spec/api-v1.md: names are the contract's).

internal sealed record HelloFrame(Guid UserId, Guid DeviceId, string ConnectionId, string GatewayId, int HeartbeatSeconds);

internal sealed record AckFrame(string ClientMsgId, Guid ChatId, Guid MessageId, long Seq, DateTimeOffset SentAt);

internal sealed record ErrorFrame(string Code, string? Message, JsonElement? Ref);

internal sealed record MessageFrame(
    Guid ChatId, long Seq, Guid Id, Guid SenderId, string Text, DateTimeOffset SentAt, string ClientMsgId, long? Rev,
    DateTimeOffset? EditedAt = null, DateTimeOffset? DeletedAt = null, long? ReplyToSeq = null, List<YacReaction>? Reactions = null)
{
    public YacMessage ToMessage() => new(Id, ChatId, Seq, SenderId, Text, SentAt, ClientMsgId, EditedAt, DeletedAt, ReplyToSeq, Reactions);
}

internal sealed record ReadFrame(Guid ChatId, Guid UserId, long Seq);

internal sealed record TypingFrame(Guid ChatId, Guid UserId);

internal sealed record PresenceFrame(Guid UserId, bool Online);

internal sealed record MemberFrame(Guid ChatId, Guid UserId, long? Rev);

internal sealed record MessageUpdatedFrame(Guid ChatId, long Rev, YacMessage Message);

internal sealed record ChatUpdatedFrame(Guid ChatId, long Rev, YacChat Chat);

internal sealed record ResumedFrame(Dictionary<Guid, long>? Chats, Dictionary<Guid, long>? Revs);

internal sealed record AuthOkFrame(int ExpiresIn);

internal sealed record OutgoingSend(string ChatId, string ClientMsgId, string Text)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "send";
}

internal sealed record OutgoingRead(string ChatId, long Seq)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "read";
}

internal sealed record OutgoingTyping(string ChatId)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "typing";
}

internal sealed record OutgoingResume(Dictionary<string, long> Chats, Dictionary<string, long>? Revs)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "resume";
}

internal sealed record OutgoingPing(string Id)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "ping";
}

internal sealed record OutgoingAuth(string AccessToken)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; } = "auth";
}
