using System.Net;
using System.Net.Sockets;

namespace ImOrleans.Tests.Infrastructure;

public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): a port the OS handed out for "port 0" is also what it hands
    // out as the source port of outgoing connections, so one of the many client sockets of a test run could take
    // it before the server binds it. Each port is handed out once per test run, from a random starting point.
    private const int First = 20000, Count = 12000;
    private static int _offset = Random.Shared.Next(Count);

    /// <summary>A loopback TCP port nobody listens on right now, outside the ephemeral range.</summary>
    public static int Next()
    {
        for (var tries = 0; tries < Count; tries++)
        {
            var port = First + Interlocked.Increment(ref _offset) % Count;
            try
            {
                using var l = new TcpListener(IPAddress.Loopback, port);
                l.Start();
                return port;
            }
            catch (SocketException)
            {
                // in use: try the next one
            }
        }
        throw new InvalidOperationException($"no free port in {First}-{First + Count - 1}");
    }
}
