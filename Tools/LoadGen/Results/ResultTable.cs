using System.Globalization;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Prints the rows as one table, the idle-connection figures, and on the last lines the ratios of each
/// server under test to the reference, scenario by scenario.</summary>
public static class ResultTable
{
    public static void Print(TextWriter w, IReadOnlyList<Row> rows, IReadOnlyList<IdleRow> idle, string reference,
        IReadOnlyList<string> subjects, string? orleansMessages)
    {
        w.WriteLine($"{"scenario",-37} {"server",-12} {"msgs/s",8} {"cpu µs/msg",10} {"load µs/msg",11} {"p50 ms",7} {"p99 ms",7} {"max ms",8} {"lost",6} {"dup",5} {"ooo",5}");
        foreach (var r in rows.GroupBy(r => r.Scenario).SelectMany(g => g)) // by scenario, in the order they first ran
            w.WriteLine($"{r.Scenario,-37} {r.Server,-12} {r.MsgsPerSecond,8:F0} {F(r.CpuMicrosPerMessage),10} {F(r.ToolMicrosPerMessage),11} {F(r.P50),7} {F(r.P99),7} {F(r.Max),8} {r.Lost,6} {r.Duplicates,5} {r.OutOfOrder,5}");
        w.WriteLine("(cpu: the server's; load: the load tool's own, all its connections together)");
        foreach (var r in rows.Where(r => r.Failed > 0))
            w.WriteLine($"  note: {r.Server}, {r.Scenario}: {r.Failed} publishes refused or not acknowledged in time");

        if (idle.Count > 0)
        {
            w.WriteLine();
            w.WriteLine($"{"idle connections",-37} {"server",-12} {"open",8} {"KB each",10} {"conn/s",7} {"cpu µs/conn",11} {"tool µs/conn",12} {"idle cpu",9}");
            foreach (var i in idle)
            {
                w.WriteLine($"{"authenticated, subscribed, settled",-37} {i.Server,-12} {i.Connected,8} {F(i.KbPerConnection),10} {i.ConnectsPerSecond,7:F0} {F(i.CpuPerConnectUs),11} {F(i.ToolCpuPerConnectUs),12} {F(i.IdleCpuPercent) + " %",9}");
                if (i.Failed > 0)
                    w.WriteLine($"  note: {i.Server}: {i.Failed} connections failed, first: {i.FirstError}");
            }
        }

        if (orleansMessages is not null)
        {
            w.WriteLine();
            w.WriteLine(orleansMessages);
        }
        foreach (var subject in subjects)
            PrintRatios(w, rows, idle, reference, subject);
    }

    private static void PrintRatios(TextWriter w, IReadOnlyList<Row> rows, IReadOnlyList<IdleRow> idle, string reference, string subject)
    {
        var scenarios = rows.Select(r => r.Scenario).Distinct()
            .Select(x => (Name: x, R: rows.FirstOrDefault(r => r.Scenario == x && r.Server == reference), S: rows.FirstOrDefault(r => r.Scenario == x && r.Server == subject)))
            .Where(x => x.R is not null && x.S is not null).ToList();
        if (scenarios.Count == 0)
            return;
        w.WriteLine();
        w.WriteLine($"{subject} / {reference} (msgs/s: higher is better; cpu, latency, memory: lower is better):");
        foreach (var (name, r, s) in scenarios)
            w.WriteLine($"  {name,-37} msgs/s {X(s!.MsgsPerSecond, r!.MsgsPerSecond),7}   cpu/msg {X(s.CpuMicrosPerMessage, r.CpuMicrosPerMessage),7}   p50 {X(s.P50, r.P50),7}   p99 {X(s.P99, r.P99),7}");
        var (ri, si) = (idle.FirstOrDefault(i => i.Server == reference), idle.FirstOrDefault(i => i.Server == subject));
        if (ri is not null && si is not null)
            w.WriteLine($"  {"idle connections",-37} KB each {X(si.KbPerConnection, ri.KbPerConnection),7}   connects/s {X(si.ConnectsPerSecond, ri.ConnectsPerSecond),7}   cpu/conn {X(si.CpuPerConnectUs, ri.CpuPerConnectUs),7}");
    }

    /// <summary>Three significant figures or so: 0.42, 8.31, 21.9, 612.</summary>
    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(Math.Abs(v) < 10 ? "F2" : Math.Abs(v) < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);

    private static string X(double subject, double reference) =>
        double.IsNaN(subject) || double.IsNaN(reference) || reference == 0 ? "-" : F(subject / reference) + "x";
}
