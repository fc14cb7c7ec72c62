namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>One scenario on one server: delivered messages per second, server (and load tool) CPU per delivered message, latency
/// percentiles (end to end; for a fan-out, the time until the last member had the message), and what went wrong.</summary>
public sealed record Row(string Scenario, string Server, double MsgsPerSecond, double CpuMicrosPerMessage,
    double ToolMicrosPerMessage, double P50, double P99, double Max, long Delivered, long Lost, long Duplicates, long OutOfOrder, long Failed)
{
    public bool Clean => Lost == 0 && Duplicates == 0 && OutOfOrder == 0 && Failed == 0;

    public static Row Create(string scenario, string server, ScenarioStats stats, CpuMeter cpu, double[] latencies)
    {
        var delivered = stats.Delivered;
        Array.Sort(latencies);
        return new Row(scenario, server,
            delivered / stats.Seconds,
            cpu.Server is { } c && delivered > 0 ? c.TotalMicroseconds / delivered : double.NaN,
            delivered > 0 ? cpu.Tool.TotalMicroseconds / delivered : double.NaN,
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile(latencies, 1),
            delivered, stats.Lost, stats.Duplicates, stats.OutOfOrder, stats.Failed);
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
