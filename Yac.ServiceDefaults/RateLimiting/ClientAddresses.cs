using System.Net;

namespace Yac.ServiceDefaults.RateLimiting;

/// <summary>How per-address limits name a client.</summary>
public static class ClientAddresses
{
    /// <summary>
    /// The partition of <paramref name="address"/>: an IPv4 address as it is (IPv4-mapped IPv6
    /// included), an IPv6 address by its /64 prefix (one subscriber's network, whose host part the
    /// subscriber chooses freely), <c>unknown</c> without an address.
    /// </summary>
    public static string PartitionOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes).ToString() + "/64";
    }
}
