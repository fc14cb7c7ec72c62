using System.Diagnostics;
using ImOrleans.Tools.LoadGen.Servers;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Waits until servers stop working: each used under 5 % of a core over the last second. After setting up
/// connections or a burst of load ImOrleans stays busy for seconds; the next scenario should not compete with that.</summary>
public static class Quiet
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);
    private const double Share = 0.05;

    /// <summary>Returns how long it waited (at most 10 s; then the servers are still busy).</summary>
    public static async Task<TimeSpan> WaitAsync(params ServerProcess?[] servers)
    {
        var watched = servers.OfType<ServerProcess>().Where(s => !s.HasExited).ToList();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Longest)
        {
            var before = watched.Select(s => s.CpuTime).ToList();
            await Task.Delay(Window);
            if (watched.Select((s, i) => s.CpuTime - before[i]).All(used => used <= Window * Share))
                break;
        }
        return clock.Elapsed;
    }
}
