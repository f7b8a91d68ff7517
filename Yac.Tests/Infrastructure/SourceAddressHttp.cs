using System.Net;
using System.Net.Sockets;

namespace Yac.Tests.Infrastructure;

/// <summary>
/// HttpClients whose TCP connections leave from a chosen loopback address (127.0.0.x), so that a
/// server on loopback sees that address as the client's: several "clients on other machines"
/// from one test process. Connects to 127.0.0.1 at the base URL's port (its host is localhost).
/// </summary>
public static class SourceAddressHttp
{
    public static HttpClient Create(Uri baseUrl, IPAddress source, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseUrl, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    /// <summary>127.0.0.<paramref name="last"/>.</summary>
    public static IPAddress Loopback(byte last) => new([127, 0, 0, last]);
}
