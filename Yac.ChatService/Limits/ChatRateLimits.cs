using Yac.ServiceDefaults.RateLimiting;

namespace Yac.ChatService.Limits;

/// <summary>
/// ChatService's per-user budgets, counted in Redis (<see cref="RedisRateLimits"/>) so that every
/// ChatService replica, and the gateway's batched socket sends, spend one budget per user. Each is
/// <c>Yac:RateLimits:{name}:PermitLimit</c> and <c>:Window</c>; the defaults are far above what a
/// person types (the test apps raise the send budget for their floods of thousands of sends from one
/// user; a bench run that pushes one user past 50 sends a second must raise it too).
/// </summary>
public static class ChatRateLimits
{
    /// <summary>
    /// Sends, over REST and over every socket of every device (the gateway's batches) together, and
    /// edits, deletes and reaction changes: everything a user writes into chats spends one budget.
    /// </summary>
    public const string Sends = "sends";

    /// <summary>Chats created.</summary>
    public const string ChatCreation = "chat-creation";

    /// <summary>Members added, removed or given a role.</summary>
    public const string MemberChanges = "member-changes";

    /// <summary>History pages, message versions and searches (not the change log, which the gateway reads on the sockets' behalf).</summary>
    public const string Reads = "reads";

    public static readonly RateLimitPolicy[] Policies =
    [
        new(Sends, RateLimitScope.User, FixedWindowLimit.Of(3000, TimeSpan.FromMinutes(1))),
        new(ChatCreation, RateLimitScope.User, FixedWindowLimit.Of(200, TimeSpan.FromMinutes(1))),
        new(MemberChanges, RateLimitScope.User, FixedWindowLimit.Of(600, TimeSpan.FromMinutes(1))),
        new(Reads, RateLimitScope.User, FixedWindowLimit.Of(1200, TimeSpan.FromMinutes(1))),
    ];
}
