using System.Diagnostics;
using ImOrleans.Tools.LoadGen.Servers;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>CPU time used between <see cref="Start"/> and now: by the server (null when it is not our child process,
/// i.e. started by hand) and by this load tool, whose share tells when the tool rather than the server is the limit.</summary>
public sealed class CpuMeter
{
    private readonly ServerProcess? _server;
    private readonly TimeSpan _serverStart;
    private readonly TimeSpan _toolStart;

    private CpuMeter(ServerProcess? server)
    {
        _server = server;
        _serverStart = server?.CpuTime ?? TimeSpan.Zero;
        _toolStart = ToolCpu();
    }

    public static CpuMeter Start(ServerProcess? server) => new(server);

    public TimeSpan? Server => _server is null ? null : _server.CpuTime - _serverStart;

    public TimeSpan Tool => ToolCpu() - _toolStart;

    private static TimeSpan ToolCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
