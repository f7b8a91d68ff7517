using System.Diagnostics;
using System.Text.Json;

namespace Yac.ChatService.Events;

/// <summary>
/// An event waiting to be published: the Redis channels it goes to, its type and data, and the
/// context of the activity that caused it (so the publish span, and every consumer, joins its trace).
/// </summary>
public sealed record OutgoingEvent(IReadOnlyList<string> Channels, string Type, JsonElement Data, ActivityContext Cause);
