using System.Diagnostics;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen.Scenarios;

/// <summary>Fan-out: one message to N receivers, then the next once the last receiver has it. The latency columns
/// are the time until the last receiver had each message; msgs/s counts deliveries.</summary>
public static class FanOut
{
    public static async Task<Row> RunAsync(string label, ITarget target, Sender sender, int receivers, int messages)
    {
        var stats = target.Recorder.Begin(copiesPerMessage: receivers);
        var cpu = CpuMeter.Start(target.Server);
        var reachedAll = new List<double>();
        for (var k = 1; k <= messages; k++)
        {
            stats.TakeWindowMax();
            using var abort = new CancellationTokenSource(Deadlines.FanOut);
            await sender.SendAsync(stats, Stopwatch.GetTimestamp(), abort.Token);
            if (!await stats.WaitForAsync(stats.Expected, Deadlines.FanOut))
            {
                reachedAll.Add(Deadlines.FanOut.TotalMilliseconds); // stalled: show it, and stop sending
                break;
            }
            reachedAll.Add(stats.TakeWindowMax());
        }
        await Task.Delay(Deadlines.Settle);
        return Row.Create(label, target.Name, stats, cpu, [.. reachedAll]);
    }
}
