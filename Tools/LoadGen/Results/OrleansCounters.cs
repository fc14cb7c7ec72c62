using System.Diagnostics;
using System.Globalization;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Counts the Orleans messages a silo sends while a scenario runs, with <c>dotnet-counters</c> (a NuGet tool)
/// attached to the server process: meter <c>Microsoft.Orleans</c>, counter <c>orleans-messaging-sent-local</c>,
/// written once a second to a CSV file as the increment of that second. The session has a fixed length
/// (<c>--duration</c>): the tool saves its file only when it ends by itself or by a key press, and a child process
/// of ours may have SIGINT ignored.</summary>
public sealed class OrleansCounters
{
    private const string Counter = "orleans-messaging-sent-local";

    private readonly Process _process;
    private readonly string _file;
    private readonly TimeSpan _length;

    private OrleansCounters(Process process, string file, TimeSpan length)
    {
        _process = process;
        _file = file;
        _length = length;
    }

    /// <summary>Attaches to <paramref name="pid"/> for <paramref name="length"/>; null (and a reason) when the tool
    /// is missing or does not start.</summary>
    public static async Task<(OrleansCounters? Counters, string? Problem)> StartAsync(string? tool, int pid, string directory, TimeSpan length)
    {
        if (tool is null || !File.Exists(tool))
            return (null, "dotnet-counters not found (Tools/bench/run.sh installs it in Tools/bench/.tools)");
        var file = Path.Combine(directory, "orleans-counters.csv");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--counters", $"Microsoft.Orleans[{Counter}]",
                     "--refresh-interval", "1", "--format", "csv", "-o", file, "--duration", length.ToString(@"dd\:hh\:mm\:ss") })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Starting a counter session", StringComparison.Ordinal) == true)
                started.TrySetResult();
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            process.Kill();
            return (null, "dotnet-counters did not start a session within 20 s");
        }
        // The session is open; give the silo's meter listener a moment to enable the instrument.
        await Task.Delay(TimeSpan.FromSeconds(2));
        return (new OrleansCounters(process, file, length), null);
    }

    /// <summary>Waits for the session to end and sums the counter over it; null, and why, if the scenario outlasted
    /// the session or the file is missing.</summary>
    public async Task<(long? Total, string? Problem)> FinishAsync()
    {
        var outlasted = _process.HasExited;
        using var timeout = new CancellationTokenSource(_length + TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
        if (outlasted)
            return (null, $"the scenario outlasted the {_length.TotalSeconds:F0} s counter session");
        if (!File.Exists(_file))
            return (null, "dotnet-counters wrote no file");
        // Timestamp,Provider,Counter Name,Counter Type,Mean/Increment
        var total = File.ReadLines(_file).Skip(1)
            .Select(line => line.Split(','))
            .Where(f => f.Length >= 5 && f[2].StartsWith(Counter, StringComparison.Ordinal))
            .Sum(f => double.Parse(f[^1], CultureInfo.InvariantCulture));
        return ((long)total, null);
    }
}
