using System.Diagnostics;
using System.Net.Sockets;

namespace ImOrleans.Tools.LoadGen.Servers;

/// <summary>The reference broker: Debian's mosquitto on a free loopback port, without persistence, anonymous, with
/// queues and in-flight windows large enough that it never drops what the workload sends.</summary>
public static class MosquittoServer
{
    public static async Task<(ServerProcess Process, int Port)> StartAsync(string mosquitto, string directory)
    {
        var port = FreePort.Next();
        var config = Path.Combine(directory, "mosquitto.conf");
        await File.WriteAllLinesAsync(config,
        [
            $"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_inflight_messages 1000",
            "max_queued_messages 1000000",
            // Like the MQTTnet server inside ImOrleans, which turns Nagle off: otherwise small publishes wait.
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "connection_messages false",
        ]);
        var server = ServerProcess.Start(mosquitto, ["-c", config], directory, Path.Combine(directory, "mosquitto.log"));
        await WaitListeningAsync(server, port);
        return (server, port);
    }

    /// <summary>The first line of <c>mosquitto -h</c>, e.g. "mosquitto version 2.0.11".</summary>
    public static async Task<string> VersionAsync(string mosquitto)
    {
        var psi = new ProcessStartInfo(mosquitto, "-h") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var first = (await p.StandardOutput.ReadLineAsync()) ?? "mosquitto";
        await p.WaitForExitAsync();
        return first.Trim();
    }

    private static async Task WaitListeningAsync(ServerProcess server, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
                throw new InvalidOperationException($"mosquitto exited:\n{server.LogTail()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"mosquitto not listening on {port} after 15 s:\n{server.LogTail()}");
    }
}
