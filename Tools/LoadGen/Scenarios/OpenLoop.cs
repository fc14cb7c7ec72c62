using System.Diagnostics;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen.Scenarios;

/// <summary>Open loop: messages go out at a fixed total rate, round-robin over the senders, whether or not earlier
/// ones were acknowledged. Latency counts from when a message was due, so a server (or load tool) that falls
/// behind shows it instead of hiding it.</summary>
public static class OpenLoop
{
    public static async Task<Row> RunAsync(string label, ITarget target, IReadOnlyList<Sender> senders, int perSecond, TimeSpan duration)
    {
        var stats = target.Recorder.Begin();
        var cpu = CpuMeter.Start(target.Server);
        using var abort = new CancellationTokenSource(duration + Deadlines.Publish);
        var total = (int)(perSecond * duration.TotalSeconds);
        var interval = (double)Stopwatch.Frequency / perSecond;
        var start = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>(total);
        for (var k = 0; k < total; k++)
        {
            var due = start + (long)(k * interval);
            while (Stopwatch.GetTimestamp() < due)
                await Task.Delay(1);
            inFlight.Add(senders[k % senders.Count].SendAsync(stats, due, abort.Token));
        }
        await Task.WhenAll(inFlight);
        await stats.WaitForAsync(stats.Expected, Deadlines.Drain);
        await Task.Delay(Deadlines.Settle);
        return Row.Create(label, target.Name, stats, cpu, stats.Latencies);
    }
}
