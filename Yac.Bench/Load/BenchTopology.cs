using System.Net;

namespace Yac.Bench.Load;

/// <summary>
/// The shape of a load, identical for every system: <see cref="Users"/> users in chats of
/// <see cref="MembersPerChat"/>, each user holding <see cref="SocketsPerUser"/> sockets, sockets
/// spread evenly over the server instances and over loopback source addresses.
/// </summary>
public sealed record BenchTopology(int Users, int SocketsPerUser, int MembersPerChat, int ServerCount)
{
    /// <summary>Sockets are spread over this many loopback source addresses (127.0.0.1 - 127.0.0.N).</summary>
    public const int SourceAddressCount = 8;

    public int Sockets => Users * SocketsPerUser;

    public int Chats => Users / MembersPerChat;

    /// <summary>How many sockets receive each message: every socket of every member, the sender's own included.</summary>
    public int DeliveriesPerMessage => MembersPerChat * SocketsPerUser;

    /// <summary>A topology of <paramref name="sockets"/> sockets over at most <paramref name="maxUsers"/> users.</summary>
    public static BenchTopology For(int sockets, int maxUsers, int membersPerChat, int serverCount)
    {
        var users = Math.Min(sockets, maxUsers);
        users -= users % membersPerChat;
        if (users < membersPerChat || sockets % users != 0)
        {
            throw new ArgumentException($"{sockets} sockets do not divide into chats of {membersPerChat} over at most {maxUsers} users.", nameof(sockets));
        }

        return new BenchTopology(users, sockets / users, membersPerChat, serverCount);
    }

    public static IPAddress SourceAddressOf(int socketIndex) => new([127, 0, 0, (byte)(1 + (socketIndex % SourceAddressCount))]);

    /// <summary>
    /// The clients of this topology. <paramref name="userIds"/>, <paramref name="tokens"/> and
    /// <paramref name="chatIds"/> are what the system under test calls its users and chats.
    /// </summary>
    public IReadOnlyList<BenchClient> CreateClients(IReadOnlyList<string> userIds, IReadOnlyList<string> tokens, IReadOnlyList<string> chatIds)
    {
        var clients = new List<BenchClient>(Sockets);
        for (var user = 0; user < Users; user++)
        {
            for (var position = 0; position < SocketsPerUser; position++)
            {
                var index = (user * SocketsPerUser) + position;
                // Members of a chat alternate between instances, and so do one user's sockets:
                // every message crosses the backplane to reach half of its recipients.
                var server = (position + user) % ServerCount;
                clients.Add(new BenchClient(
                    index,
                    user,
                    userIds[user],
                    tokens[user],
                    chatIds[user / MembersPerChat],
                    server,
                    SourceAddressOf(index),
                    IsSender: position == 0));
            }
        }

        return clients;
    }
}
