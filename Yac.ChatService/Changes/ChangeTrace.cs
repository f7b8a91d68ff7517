using System.Diagnostics;

namespace Yac.ChatService.Changes;

/// <summary>
/// A change's cause as it is kept in the log (<c>chat_changes.trace_parent</c>): the W3C
/// <c>traceparent</c> of the activity that made it. Kept with the change, its trace goes on across
/// Redis whichever replica publishes it and however late (after a crash, a lost fast path).
/// </summary>
public static class ChangeTrace
{
    /// <summary>The length of a version-00 <c>traceparent</c>: the column's width.</summary>
    public const int MaxLength = 55;

    /// <summary>The <c>traceparent</c> of <paramref name="cause"/>, or null when there is none.</summary>
    public static string? Format(ActivityContext cause) =>
        cause == default ? null : $"00-{cause.TraceId.ToHexString()}-{cause.SpanId.ToHexString()}-{(int)cause.TraceFlags:x2}";

    /// <summary>The context <paramref name="traceParent"/> names, or default when it is null or malformed.</summary>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is { Length: MaxLength } && ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var context)
            ? context
            : default;
}
