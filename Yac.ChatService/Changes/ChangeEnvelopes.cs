using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Yac.Contracts;
using Yac.ServiceDefaults.Messaging;

namespace Yac.ChatService.Changes;

/// <summary>
/// Writes a change's Redis payload: an <see cref="EventEnvelope"/> of type <see cref="EventTypes.ChatChange"/>
/// whose data is a <see cref="ChatChangeEvent"/>, the frame written in as it is (no second serialization).
/// </summary>
public static class ChangeEnvelopes
{
    public static byte[] Write(Guid chatId, long rev, string type, Guid? userId, long? seq, ReadOnlySpan<byte> frame, ActivityContext trace)
    {
        var context = EventEnvelopeTracing.CreateEnvelope(EventTypes.ChatChange, default, trace);
        var buffer = new ArrayBufferWriter<byte>(frame.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", EventEnvelope.CurrentVersion);
            writer.WriteString("type", EventTypes.ChatChange);
            if (context.TraceParent is not null)
            {
                writer.WriteString("traceParent", context.TraceParent);
            }

            if (context.TraceState is not null)
            {
                writer.WriteString("traceState", context.TraceState);
            }

            writer.WriteStartObject("data");
            writer.WriteString("chatId", chatId);
            writer.WriteNumber("rev", rev);
            writer.WriteString("type", type);
            if (userId is { } user)
            {
                writer.WriteString("userId", user);
            }

            if (seq is { } messageSeq)
            {
                writer.WriteNumber("seq", messageSeq);
            }

            writer.WritePropertyName("frame");
            writer.WriteRawValue(frame, skipInputValidation: true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
