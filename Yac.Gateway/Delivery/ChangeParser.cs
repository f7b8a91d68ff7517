using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Yac.Gateway.Delivery;

/// <summary>
/// Reads a change frame (from Redis or from <c>GET .../changes</c>) into a <see cref="ChatChange"/>
/// whose bytes are the frame exactly as ChatService wrote it. A frame without what ordering and
/// membership need (a rev, a type, the member of a membership change) is refused, never guessed.
/// </summary>
internal static class ChangeParser
{
    public static ChatChange? FromFrame(JsonElement frame, ActivityContext trace = default)
    {
        if (frame.ValueKind != JsonValueKind.Object
            || !frame.TryGetProperty("rev", out var revElement) || !revElement.TryGetInt64(out var rev) || rev < 1
            || !frame.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var type = typeElement.GetString()!;
        Guid? userId = null;
        if (type is ChatChange.MemberJoined or ChatChange.MemberLeft)
        {
            if (!frame.TryGetProperty("userId", out var userElement) || !userElement.TryGetGuid(out var user) || user == Guid.Empty)
            {
                return null;
            }

            userId = user;
        }

        long? seq = null;
        DateTimeOffset? sentAt = null;
        if (type == ChatChange.Message)
        {
            if (!frame.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var messageSeq) || messageSeq < 1)
            {
                return null;
            }

            seq = messageSeq;
            if (frame.TryGetProperty("sentAt", out var sentAtElement) && sentAtElement.TryGetDateTimeOffset(out var sent))
            {
                sentAt = sent;
            }
        }

        return new ChatChange(rev, type, userId, seq, JsonMarshal.GetRawUtf8Value(frame).ToArray(), trace, sentAt);
    }
}
