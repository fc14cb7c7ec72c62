// Measures group-commit throughput of the message store: C conversations, each appending one message
// after another (as a conversation grain does: the next seq only after the previous commit), until
// N messages in all are committed. Prints appends/s, CPU per append (this process: the store's own work, plus
// the database server's for PostgreSQL, which is not counted), batch sizes and commit latency percentiles.
//
//   dotnet run -c Release --project Tools/StoreBench -- sqlite [conversations] [messages]
//   dotnet run -c Release --project Tools/StoreBench -- postgres "<connection string>" [conversations] [messages]
using System.Diagnostics;
using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length == 0 || args[0] is not ("sqlite" or "postgres") || (args[0] == "postgres" && args.Length < 2))
{
    Console.Error.WriteLine("usage: StoreBench sqlite [conversations] [messages] | postgres \"<connection string>\" [conversations] [messages]");
    return 2;
}
var rest = args[0] == "postgres" ? args[2..] : args[1..];
var conversations = rest.Length > 0 ? int.Parse(rest[0]) : 64;
var total = rest.Length > 1 ? int.Parse(rest[1]) : 20_000;

var dir = Path.Combine(Path.GetTempPath(), $"imorleans-bench-{Guid.NewGuid():N}");
await using IMessageStore log = args[0] == "sqlite"
    ? new SqliteMessageStore(Path.Combine(dir, "messages.db"), 256, NullLogger<SqliteMessageStore>.Instance)
    : new PostgresMessageStore(args[1], 256, NullLogger<PostgresMessageStore>.Instance);
await log.InitializeAsync();
var stats = log.Stats;

var run = Guid.NewGuid().ToString("N")[..8];
var latencies = new double[total];
var next = -1;
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
{
    var conv = $"g-{run}{c:x24}";
    long seq = 0;
    while (true)
    {
        var i = Interlocked.Increment(ref next);
        if (i >= total)
            return;
        var started = Stopwatch.GetTimestamp();
        await log.AppendAsync(new MessageRecord(conv, ++seq, $"m{i}", "bench", "dev", "a message of a typical length, about sixty characters long", DateTimeOffset.UtcNow));
        latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}));
clock.Stop();
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

Array.Sort(latencies);
double P(double q) => latencies[(int)Math.Min(latencies.Length - 1, q * latencies.Length)];
Console.WriteLine($"store={args[0]} conversations={conversations} messages={total}");
Console.WriteLine($"appends/s={total / clock.Elapsed.TotalSeconds:F0} elapsed={clock.Elapsed.TotalSeconds:F2}s");
Console.WriteLine($"cpu-per-append-us={cpu.TotalMicroseconds / total:F1}");
Console.WriteLine($"batches={stats.Batches} mean-batch={(double)stats.Appends / Math.Max(1, stats.Batches):F1}");
Console.WriteLine($"commit-latency-ms p50={P(0.50):F2} p99={P(0.99):F2} max={latencies[^1]:F2}");
if (Directory.Exists(dir))
    Directory.Delete(dir, recursive: true);
return 0;
