using ImOrleans.Tools.LoadGen.Servers;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>The server's CPU time used between <see cref="Start"/> and <see cref="Elapsed"/>; null when the
/// server is not our child process (a server started by hand).</summary>
public sealed class CpuMeter
{
    private readonly ServerProcess? _server;
    private readonly TimeSpan _start;

    private CpuMeter(ServerProcess? server)
    {
        _server = server;
        _start = server?.CpuTime ?? TimeSpan.Zero;
    }

    public static CpuMeter Start(ServerProcess? server) => new(server);

    public TimeSpan? Elapsed => _server is null ? null : _server.CpuTime - _start;
}
