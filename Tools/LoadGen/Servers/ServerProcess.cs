using System.Diagnostics;

namespace ImOrleans.Tools.LoadGen.Servers;

/// <summary>A server under test in its own process, its output in a log file. Reads the process's CPU time and
/// resident memory from /proc, so the figures are the server's alone, not the load tool's.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    // /proc reports CPU time in USER_HZ ticks, which is 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly Process _process;
    private Func<TimeSpan>? _alsoCounted;

    private ServerProcess(Process process, string logFile)
    {
        _process = process;
        LogFile = logFile;
    }

    public int Pid => _process.Id;
    public string LogFile { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="program"/> through <c>sh -c exec</c>: the output goes straight to the log
    /// file (no pipe for us to drain) and the PID we hold is the server's own.</summary>
    public static ServerProcess Start(string program, IEnumerable<string> args, string workingDirectory, string logFile)
    {
        var psi = new ProcessStartInfo("/bin/sh") { WorkingDirectory = workingDirectory };
        foreach (var a in new[] { "-c", "log=$1; shift; exec \"$@\" >\"$log\" 2>&1", "sh", logFile, program }.Concat(args))
            psi.ArgumentList.Add(a);
        return new ServerProcess(Process.Start(psi)!, logFile);
    }

    /// <summary>Counts the CPU time of what the server relies on (its database) as the server's own.</summary>
    public ServerProcess CountingAlso(Func<TimeSpan> cpuTime)
    {
        _alsoCounted = cpuTime;
        return this;
    }

    /// <summary>User plus system CPU time the process has used so far (utime + stime of /proc/PID/stat), plus what
    /// <see cref="CountingAlso"/> adds.</summary>
    public TimeSpan CpuTime => OwnCpuTime + (_alsoCounted?.Invoke() ?? TimeSpan.Zero);

    private TimeSpan OwnCpuTime
    {
        get
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            // Fields after the command name, which is in parentheses and may hold spaces: [0] is field 3 (state),
            // so utime (field 14) is [11] and stime (field 15) is [12].
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond);
        }
    }

    /// <summary>Resident set size (VmRSS of /proc/PID/status) in bytes.</summary>
    public long RssBytes
    {
        get
        {
            var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }

    public string LogTail(int lines = 30) =>
        File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(lines)) : "(no log)";

    /// <summary>SIGTERM, then SIGKILL if it has not exited within 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", Pid.ToString()]))
                await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }
}
