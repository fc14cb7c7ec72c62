using System.Net;

namespace ImOrleans.Gateway.Auth;

/// <summary>The key a client's address is limited by: IPv4 as is, IPv6 by its /64 (one subscriber's network,
/// whose host half anyone can vary at will).</summary>
public static class SourceAddress
{
    public static IPAddress Of(IPAddress? address)
    {
        if (address is null)
            return IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            return address;
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }
}
