using System.Diagnostics;

namespace ImOrleans.Tools.LoadGen.Servers;

/// <summary>A throwaway PostgreSQL server (Debian's package: initdb and pg_ctl) for ImOrleans in cluster mode: its own
/// data folder under /tmp, a free loopback port, fsync on, stopped and deleted at the end. Its CPU counts as the
/// server side's: with PostgreSQL, storing a message costs the database's work as much as the silo's.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Password = "bench";

    private readonly string _bin;
    private readonly string _root;
    private readonly bool _asRoot;
    private readonly int _port;
    private readonly string _logCopy;

    private PostgresServer(string bin, string root, bool asRoot, int port, string logCopy)
    {
        (_bin, _root, _asRoot, _port, _logCopy) = (bin, root, asRoot, port, logCopy);
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Password={Password};Database=postgres";
    }

    public string ConnectionString { get; }

    /// <param name="logDirectory">Where its log is copied when it stops (the run's folder, kept when a run fails).</param>
    public static async Task<PostgresServer> StartAsync(string run, string logDirectory)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Order().Select(d => Path.Combine(d, "bin")).LastOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (bin is null)
            throw new InvalidOperationException("--postgres needs PostgreSQL: apt-get install -y postgresql (Tools/bench/run.sh does)");
        // Not inside the run's folder: that one is private to us, and the server runs as the postgres user.
        var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"imorleans-bench-pg-{run}")).FullName;
        var asRoot = Environment.UserName == "root"; // initdb refuses to run as root
        var server = new PostgresServer(bin, root, asRoot, FreePort.Next(), Path.Combine(logDirectory, "postgres.log"));
        await File.WriteAllTextAsync(Path.Combine(root, "pw"), Password);
        if (asRoot)
            await RunAsync("chown", ["-R", "postgres", root]);
        await server.RunAsPostgresAsync("initdb", ["-D", $"{root}/data", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
            "--auth-local=trust", "--auth-host=scram-sha-256", $"--pwfile={root}/pw"]);
        await server.RunAsPostgresAsync("pg_ctl", ["-D", $"{root}/data", "-l", $"{root}/server.log", "-w", "-t", "30",
            "-o", $"-c listen_addresses=127.0.0.1 -p {server._port} -k {root} -c fsync=on -c synchronous_commit=on -c max_connections=200 -c log_checkpoints=on -c log_autovacuum_min_duration=0", "start"]);
        return server;
    }

    /// <summary>The server's version, e.g. "15.14".</summary>
    public async Task<string> VersionAsync()
    {
        var psi = new ProcessStartInfo(Path.Combine(_bin, "postgres"), "--version") { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var line = (await p.StandardOutput.ReadToEndAsync()).Trim(); // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
        await p.WaitForExitAsync();
        var words = line.Split(' ');
        return words.Length > 2 ? words[2] : line;
    }

    /// <summary>CPU time of the postmaster and every backend: its own, its live children's, and what the children
    /// that already ended used (cutime/cstime, which the postmaster collects as it reaps them).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            if (PostmasterPid() is not { } postmaster)
                return TimeSpan.Zero;
            var ticks = Stat(postmaster) is { } own ? own.Utime + own.Stime + own.Cutime + own.Cstime : 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } s && s.Ppid == postmaster)
                    ticks += s.Utime + s.Stime;
            }
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsPostgresAsync("pg_ctl", ["-D", $"{_root}/data", "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            var log = Path.Combine(_root, "server.log");
            if (File.Exists(log))
                File.Copy(log, _logCopy, overwrite: true);
            Directory.Delete(_root, recursive: true);
        }
    }

    private int? PostmasterPid()
    {
        var file = Path.Combine(_root, "data", "postmaster.pid");
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadLines(file).FirstOrDefault(), out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private readonly record struct ProcStat(int Ppid, long Utime, long Stime, long Cutime, long Cstime);

    private static ProcStat? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // After the command name in parentheses: [0] is field 3 (state), [1] ppid, [11]-[14] utime, stime, cutime, cstime.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return new ProcStat(int.Parse(f[1]), long.Parse(f[11]), long.Parse(f[12]), long.Parse(f[13]), long.Parse(f[14]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null; // ended meanwhile
        }
    }

    private Task RunAsPostgresAsync(string tool, string[] args) =>
        _asRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string exe, string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var (stdout, stderr) = (p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }
}
