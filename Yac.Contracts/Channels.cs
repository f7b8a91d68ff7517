namespace Yac.Contracts;

/// <summary>
/// Redis pub/sub channel names. Every name is prefixed so that YAC can share a Redis with
/// other applications. See docs/events.md.
/// </summary>
public static class Channels
{
    public const string Prefix = "yac:";

    /// <summary>Everything that happens inside one chat: messages, reads, membership, typing.</summary>
    public static string Chat(Guid chatId) => $"{Prefix}chat:{chatId:D}";

    /// <summary>What concerns one user wherever they are connected: joining or leaving a chat.</summary>
    public static string User(Guid userId) => $"{Prefix}user:{userId:D}";

    /// <summary>Device sessions revoked by logout or refresh-token reuse.</summary>
    public const string Revocations = Prefix + "revocations";

    /// <summary>Users going online or offline (published by the gateways).</summary>
    public const string Presence = Prefix + "presence";
}

/// <summary>Redis keys (not channels) that more than one service reads. See docs/events.md.</summary>
public static class RedisKeys
{
    /// <summary>
    /// Sorted set of revoked device ids (<c>D</c> format), scored by the Unix time in milliseconds
    /// until which tokens of that device may still be presented (after it they have expired anyway).
    /// Written by Identity before it publishes on <see cref="Channels.Revocations"/>.
    /// </summary>
    public const string RevokedDevices = Channels.Prefix + "revoked-devices";
}
