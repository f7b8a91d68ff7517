namespace Yac.ChatService.Changes;

/// <summary>
/// One entry of a chat's ordered change log: everything members see happen in a chat takes the
/// chat's next rev, in the same transaction as the change itself. The log is the outbox: the
/// publisher puts it on Redis, the gateways fill gaps and resume from it. An entry names what changed
/// (a message by its seq, a member by user id) rather than copying it, so a deleted text is gone from
/// the log as well and every read of it shows the current state.
/// </summary>
public sealed class ChatChange
{
    public Guid ChatId { get; set; }

    public long Rev { get; set; }

    /// <summary>One of <see cref="ChangeTypes"/>: the type of the frame that announces it.</summary>
    public required string Type { get; set; }

    /// <summary>The message concerned (<c>message</c>, <c>messageUpdated</c>).</summary>
    public long? Seq { get; set; }

    /// <summary>The member concerned (<c>memberJoined</c>, <c>memberLeft</c>).</summary>
    public Guid? UserId { get; set; }

    public DateTime ChangedAt { get; set; }

    /// <summary>The <c>traceparent</c> of the activity that made the change (<see cref="ChangeTrace"/>).</summary>
    public string? TraceParent { get; set; }
}

/// <summary>The change types: the contract's names of the frames that announce them.</summary>
public static class ChangeTypes
{
    public const string Message = "message";
    public const string MessageUpdated = "messageUpdated";
    public const string MemberJoined = "memberJoined";
    public const string MemberLeft = "memberLeft";
    public const string ChatUpdated = "chatUpdated";
}
