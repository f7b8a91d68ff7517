using System.Diagnostics;

namespace Yac.ChatService.Changes;

/// <summary>
/// A change that has just committed, rendered, on its way to the publisher by the fast path (in
/// memory, right after the commit). The log in PostgreSQL remains the truth: whatever this copy
/// misses (a crash, another replica's commit) the publisher reads from there.
/// </summary>
/// <param name="ChatId">The chat whose log it is in.</param>
/// <param name="Rev">Its position in that log.</param>
/// <param name="Type">One of <see cref="ChangeTypes"/>.</param>
/// <param name="UserId">The member concerned, for membership changes.</param>
/// <param name="Seq">The message concerned, for message changes.</param>
/// <param name="Frame">The frame that announces it.</param>
/// <param name="Cause">The activity that made the change, so its trace goes on across Redis.</param>
public sealed record CommittedChange(Guid ChatId, long Rev, string Type, Guid? UserId, long? Seq, ReadOnlyMemory<byte> Frame, ActivityContext Cause);
