using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen.Scenarios;

/// <summary>Opens N authenticated, subscribed connections that then stay quiet; reports how fast they connected, how
/// much resident memory each added to the server once it settled, and the server's CPU while they idle. Connections come from several loopback
/// source addresses, a few thousand each, so the ephemeral ports of one address are never the limit.</summary>
public static class IdleConnections
{
    private const int Concurrency = 64;
    private static readonly TimeSpan ConnectPhase = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan IdleCpuWindow = TimeSpan.FromSeconds(5);

    public static async Task<IdleRow> RunAsync(ITarget target, int count, IReadOnlyList<IPAddress> sources)
    {
        var server = target.Server ?? throw new InvalidOperationException("the idle scenario needs the server process");
        await target.PrepareIdleAsync(count);
        var before = await SettledRssAsync(server);
        Compare.Progress($"{target.Name}: connecting");

        var open = new ConcurrentBag<IdleConnection>();
        var (failed, next) = (0, -1);
        string? firstError = null;
        var connectCpu = CpuMeter.Start(server);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while (clock.Elapsed < ConnectPhase && (i = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    open.Add(await target.OpenIdleAsync(i, sources[i % sources.Count]));
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, e.Message, null);
                }
            }
        }));
        var connectSeconds = clock.Elapsed.TotalSeconds;
        var cpuPerConnect = connectCpu.Server!.Value.TotalMicroseconds / Math.Max(1, open.Count);
        var toolCpuPerConnect = connectCpu.Tool.TotalMicroseconds / Math.Max(1, open.Count);

        var after = await SettledRssAsync(server);
        var cpu = CpuMeter.Start(server);
        await Task.Delay(IdleCpuWindow);
        var idleCpu = cpu.Server!.Value / IdleCpuWindow * 100;
        await Parallel.ForEachAsync(open, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());
        return new IdleRow(target.Name, open.Count, failed,
            open.IsEmpty ? double.NaN : (after - before) / 1024.0 / open.Count, open.Count / connectSeconds, cpuPerConnect, toolCpuPerConnect, idleCpu, firstError);
    }

    /// <summary>The server's RSS once it stops moving: two readings a second apart within 0.5 %, or after 20 s.</summary>
    private static async Task<long> SettledRssAsync(Servers.ServerProcess server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var last = server.RssBytes;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = server.RssBytes;
            if (Math.Abs(now - last) <= last / 200)
                return now;
            last = now;
        }
        return last;
    }
}
