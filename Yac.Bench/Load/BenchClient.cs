using System.Net;

namespace Yac.Bench.Load;

/// <summary>
/// One client socket of the load: which user it belongs to, which chat that user is in, which
/// server instance it connects to and from which loopback source address.
/// </summary>
/// <param name="Index">The socket's position in the topology.</param>
/// <param name="UserIndex">The user's position in the topology.</param>
/// <param name="UserId">The user id the system knows the user by.</param>
/// <param name="AccessToken">YAC's bearer token; empty for the baseline, which has no authentication.</param>
/// <param name="ChatId">The one chat (group) this user is a member of.</param>
/// <param name="ServerIndex">The server instance this socket connects to.</param>
/// <param name="SourceAddress">The loopback address the socket connects from.</param>
/// <param name="IsSender">Whether this socket sends the user's messages (one socket per user does).</param>
public sealed record BenchClient(
    int Index,
    int UserIndex,
    string UserId,
    string AccessToken,
    string ChatId,
    int ServerIndex,
    IPAddress SourceAddress,
    bool IsSender);
