using System.Net;
using System.Security.Cryptography;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Scenarios;
using ImOrleans.Tools.LoadGen.Servers;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen;

/// <summary>The benchmark: starts the reference broker (mosquitto) and the ImOrleans embedded server side by side
/// (with <c>--postgres</c>, ImOrleans on PostgreSQL too), drives them with the same workload, scenario by scenario
/// (reference first), and prints one table with the ImOrleans/reference ratios last. The machine is shared and noisy;
/// the ratios are what a single run can tell.</summary>
public static class Compare
{
    private const string Reference = "mosquitto";
    private const string Subject = "imorleans";
    private const string PostgresSubject = "imorleans-pg";
    private const int ConnectionsPerSourceAddress = 5000;

    // Long enough for the JIT to finish tiering up the hot path: a 2 s warm-up left ImOrleans's first measured
    // scenario paying for background compilation (several times its steady CPU per message).
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    // The counter session covers the closed-loop run and its drain; the extra seconds add only idle messages.
    private static readonly TimeSpan CounterMargin = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(CompareOptions o)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var directory = Directory.CreateTempSubdirectory("imorleans-bench-").FullName;
        var version = await MosquittoServer.VersionAsync(o.Mosquitto);
        var loadAtStart = LoadAverage();
        Progress($"run {run}; server data and logs in {directory}; load average {loadAtStart}");
        var clean = false;
        try
        {
            var (mosquitto, mosquittoPort) = await MosquittoServer.StartAsync(o.Mosquitto, directory);
            await using var stopMosquitto = mosquitto;
            var signingKey = RandomNumberGenerator.GetBytes(32);
            var (silo, ports) = await SiloServer.StartAsync(o.Silo, directory, signingKey,
                maxDevicesPerUser: Math.Max(10, o.IdlePerUser), maxGroupMembers: Math.Max(1000, o.FanOutReceivers + 1));
            await using var stopSilo = silo;
            using var accounts = new ImOrleansAccounts("127.0.0.1", ports.HttpPort);
            var targets = new List<ITarget>
            {
                new MosquittoTarget(Reference, mosquitto, new MqttConnector("127.0.0.1", mosquittoPort), run),
                new ImOrleansTarget(Subject, silo, new MqttConnector("127.0.0.1", ports.MqttPort), accounts, new TokenMinter(signingKey), run, o.IdlePerUser),
            };
            await using var onPostgres = o.Postgres && o.Only is null or PostgresSubject ? await StartOnPostgresAsync(o, run, directory, signingKey) : null;
            if (onPostgres is not null)
                targets.Add(onPostgres.Target);
            targets.RemoveAll(t => o.Only is not null && t.Name != o.Only);
            if (targets.Count == 0)
                throw new ArgumentException($"--only {o.Only}: no such server (mosquitto, imorleans, or imorleans-pg with --postgres)");

            var (rows, orleansMessages) = await RunMessagingAsync(o, [.. targets], directory);
            var idle = await RunIdleAsync(o, [.. targets]);

            Console.WriteLine();
            if (onPostgres is not null)
                Console.WriteLine($"{PostgresSubject}: ImOrleans in cluster mode on PostgreSQL {onPostgres.Version} (fsync on; its CPU counted as the server's).");
            Console.WriteLine($"ImOrleans embedded (SQLite, synchronous=FULL) beside {version} (no persistence), {Environment.ProcessorCount} cores,");
            Console.WriteLine($"load tool on the same machine; MQTT 5, QoS 1, {TestMessage.BodyLength}-character bodies; load average {loadAtStart} at start, {LoadAverage()} at end.");
            Console.WriteLine();
            ResultTable.Print(Console.Out, rows, idle, Reference, [Subject, PostgresSubject], orleansMessages);
            if (MqttConnector.Dropped > 0)
                Console.WriteLine($"{MqttConnector.Dropped} connections ended without the tool closing them: closed by a server, or timed out in the tool (the first 20, with the reason, are in the progress output)");
            clean = rows.All(r => r.Clean);
            return clean ? 0 : 1;
        }
        finally
        {
            if (clean && !o.Keep)
                Directory.Delete(directory, recursive: true);
            else
                Progress($"kept {directory} (server logs: silo.log, mosquitto.log, and with --postgres silo-pg.log, postgres.log)");
        }
    }

    /// <summary>ImOrleans on a throwaway PostgreSQL server: the silo, its accounts and its target, stopped together.</summary>
    private sealed record OnPostgres(PostgresServer Database, ServerProcess Silo, ImOrleansAccounts Accounts, ITarget Target, string Version)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Accounts.Dispose();
            await Silo.DisposeAsync(); // the silo first: its last writes still need the database
            await Database.DisposeAsync();
        }
    }

    private static async Task<OnPostgres> StartOnPostgresAsync(CompareOptions o, string run, string directory, byte[] signingKey)
    {
        Progress($"{PostgresSubject}: starting PostgreSQL");
        var database = await PostgresServer.StartAsync(run, directory);
        try
        {
            var (silo, ports) = await SiloServer.StartAsync(o.Silo, directory, signingKey,
                maxDevicesPerUser: Math.Max(10, o.IdlePerUser), maxGroupMembers: Math.Max(1000, o.FanOutReceivers + 1), postgres: database.ConnectionString);
            silo.CountingAlso(() => database.CpuTime);
            var accounts = new ImOrleansAccounts("127.0.0.1", ports.HttpPort);
            var target = new ImOrleansTarget(PostgresSubject, silo, new MqttConnector("127.0.0.1", ports.MqttPort), accounts,
                new TokenMinter(signingKey), run, o.IdlePerUser);
            return new OnPostgres(database, silo, accounts, target, await database.VersionAsync());
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>Each scenario on each server in turn (reference first), with only that scenario's connections open:
    /// idle connections cost ImOrleans CPU, which would otherwise count against the messages of the scenario.</summary>
    private static async Task<(List<Row> Rows, string? OrleansMessages)> RunMessagingAsync(CompareOptions o, ITarget[] targets, string directory)
    {
        var rows = new List<Row>();
        var orleansMessages = targets.Any(t => t.Name == Subject) ? "Orleans messages per delivered 1:1 message: not measured" : null;
        foreach (var t in targets)
        {
            Progress($"{t.Name}: warm-up, 10 pairs (not reported)");
            var warm = await t.OpenPairsAsync(10);
            await QuietAsync(targets);
            await ClosedLoop.RunAsync("warm-up", t, warm, o.Window, WarmUp);
            await t.CloseAsync();
        }

        foreach (var pairs in o.PairCounts)
        {
            var label = $"{pairs} pair{(pairs == 1 ? "" : "s")}, closed loop, {o.Window} in flight";
            var openLabel = $"{pairs} pairs, open loop, {o.OpenLoopRate}/s";
            var openLoop = pairs == o.MaxPairs;
            foreach (var t in targets)
            {
                Progress($"{t.Name}: opening {pairs} pair{(pairs == 1 ? "" : "s")}");
                var senders = await t.OpenPairsAsync(pairs);
                await QuietAsync(targets);
                Progress($"{t.Name}: {label}");
                // The Orleans message count rides along on the largest closed-loop run of ImOrleans.
                var count = pairs == o.MaxPairs && t.Name == Subject;
                var (counters, problem) = count ? await OrleansCounters.StartAsync(o.Counters, t.Server!.Pid, directory, o.ClosedLoop + CounterMargin) : default;
                var row = Report(rows, await ClosedLoop.RunAsync(label, t, senders, o.Window, o.ClosedLoop));
                if (count)
                    orleansMessages = await OrleansMessagesAsync(counters, problem, row);
                if (openLoop)
                {
                    await QuietAsync(targets);
                    Progress($"{t.Name}: {openLabel}");
                    Report(rows, await OpenLoop.RunAsync(openLabel, t, senders, o.OpenLoopRate, o.OpenLoop));
                }
                if (!openLoop)
                    await t.CloseAsync(); // the largest pairs stay open: ImOrleans's group takes them as members
            }
        }

        var fanLabel = $"fan-out 1→{o.FanOutReceivers}, to last receiver";
        foreach (var t in targets)
        {
            Progress($"{t.Name}: opening a group of {o.FanOutReceivers} receivers");
            var sender = await t.OpenGroupAsync(o.FanOutReceivers);
            await QuietAsync(targets);
            Progress($"{t.Name}: {fanLabel}");
            Report(rows, await FanOut.RunAsync(fanLabel, t, sender, o.FanOutReceivers, o.FanOutMessages));
            await t.CloseAsync();
        }
        return (rows, orleansMessages);
    }

    private static async Task<List<IdleRow>> RunIdleAsync(CompareOptions o, ITarget[] targets)
    {
        var rows = new List<IdleRow>();
        var count = Math.Min(o.Idle, OpenFileLimit() - 2000); // our own sockets and files must fit under the limit too
        if (count < o.Idle)
            Progress($"idle connections: {count} instead of {o.Idle}, to stay under the open-file limit ({OpenFileLimit()}; raise it with ulimit -n)");
        if (count <= 0)
            return rows;
        var nextAddress = 2; // 127.0.0.2, 127.0.0.3, …: fresh addresses per server, clear of the other's TIME_WAITs
        foreach (var t in targets)
        {
            var sources = Enumerable.Range(nextAddress, (count + ConnectionsPerSourceAddress - 1) / ConnectionsPerSourceAddress)
                .Select(a => IPAddress.Parse($"127.0.0.{a}")).ToList();
            nextAddress += sources.Count;
            await QuietAsync(targets);
            Progress($"{t.Name}: {count} idle connections from {sources.Count} source addresses");
            var row = await IdleConnections.RunAsync(t, count, sources);
            rows.Add(row);
            Progress($"{t.Name}: {row.Connected} open ({row.Failed} failed), {row.KbPerConnection:F1} KB each, {row.ConnectsPerSecond:F0} connects/s ({row.CpuPerConnectUs:F0} µs of server CPU each), {row.IdleCpuPercent:F1} % of a core while idle");
        }
        return rows;
    }

    private static async Task<string> OrleansMessagesAsync(OrleansCounters? counters, string? problem, Row row)
    {
        const string What = "Orleans messages per delivered 1:1 message";
        if (counters is null)
            return $"{What}: not measured, {problem}";
        var (total, why) = await counters.FinishAsync();
        return total is { } n && row.Delivered > 0
            ? $"{What} ({row.Scenario}; orleans-messaging-sent-local via dotnet-counters): {(double)n / row.Delivered:F1} ({n} / {row.Delivered})"
            : $"{What}: not measured, {why}";
    }

    /// <summary>Waits until neither server still works on what came before, so each scenario has the machine alone.</summary>
    private static async Task QuietAsync(ITarget[] targets)
    {
        var waited = await Quiet.WaitAsync([.. targets.Select(t => t.Server)]);
        if (waited > TimeSpan.FromSeconds(3))
            Progress($"  waited {waited.TotalSeconds:F0} s for the servers to go quiet");
    }

    private static Row Report(List<Row> rows, Row row)
    {
        rows.Add(row);
        Progress($"  {row.Server}: {row.MsgsPerSecond:F0} msg/s, {row.CpuMicrosPerMessage:F0} µs cpu/msg (load tool {row.ToolMicrosPerMessage:F0}), p50 {row.P50:F1} ms, p99 {row.P99:F1} ms, lost {row.Lost}, dup {row.Duplicates}, ooo {row.OutOfOrder}");
        return row;
    }

    internal static void Progress(string line) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>The soft open-file limit of this process (<c>ulimit -n</c>).</summary>
    private static int OpenFileLimit()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? int.MaxValue : int.Parse(soft);
    }
}
