using System.Diagnostics;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen.Scenarios;

/// <summary>Closed loop: every sender keeps <c>window</c> messages in flight (the next goes out as soon as a PUBACK
/// comes back) for a fixed time, then everything sent must arrive.</summary>
public static class ClosedLoop
{
    public static async Task<Row> RunAsync(string label, ITarget target, IReadOnlyList<Sender> senders, int window, TimeSpan duration)
    {
        var stats = target.Recorder.Begin();
        var cpu = CpuMeter.Start(target.Server);
        using var stop = new CancellationTokenSource(duration);
        using var abort = new CancellationTokenSource(duration + Deadlines.Publish);
        await Task.WhenAll(senders.Select(s => SendAsync(s, stats, window, stop.Token, abort.Token)));
        await stats.WaitForAsync(stats.Expected, Deadlines.Drain);
        await Task.Delay(Deadlines.Settle);
        return Row.Create(label, target.Name, stats, cpu, stats.Latencies);
    }

    private static async Task SendAsync(Sender sender, ScenarioStats stats, int window, CancellationToken stop, CancellationToken abort)
    {
        var slots = new SemaphoreSlim(window);
        while (true)
        {
            try
            {
                await slots.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            _ = SendOneAsync(sender, stats, slots, abort);
        }
        // Every slot back means nothing is in flight; SendAsync gives up at `abort`, so this ends too.
        for (var i = 0; i < window; i++)
            await slots.WaitAsync(Deadlines.Publish * 2);
    }

    private static async Task SendOneAsync(Sender sender, ScenarioStats stats, SemaphoreSlim slots, CancellationToken abort)
    {
        try
        {
            await sender.SendAsync(stats, Stopwatch.GetTimestamp(), abort);
        }
        finally
        {
            slots.Release();
        }
    }
}
