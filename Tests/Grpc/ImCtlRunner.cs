using System.Diagnostics;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary>What one run of the ImCtl program left behind.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout as JSON Lines (the --json format).</summary>
    public IReadOnlyList<JsonObject> Json =>
        Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the built ImCtl (<c>dotnet ImCtl.dll …</c>) as its own process against the shared server,
/// configured through its environment variables unless a test says otherwise.</summary>
public static class ImCtlRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    /// <param name="environment">Variables to set (a null value removes one) on top of the defaults:
    /// IMCTL_ADDRESS and IMCTL_API_KEY of the shared server.</param>
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var process = await StartAsync(environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"imctl {string.Join(' ', args)} did not finish within {Timeout.TotalSeconds} s");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts ImCtl and leaves reading its output to the caller (for streams such as watch).</summary>
    public static async Task<Process> StartAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var silo = await GatewayFixture.SiloAsync();
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        psi.ArgumentList.Add(BuildOutput.Dll("Tools/ImCtl", "ImCtl"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["IMCTL_ADDRESS"] = $"http://127.0.0.1:{silo.GrpcPort}";
        psi.Environment["IMCTL_API_KEY"] = SiloProcess.ApiKey;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                psi.Environment.Remove(name);
            else
                psi.Environment[name] = value;
        }
        var process = Process.Start(psi)!;
        process.StandardInput.Close();
        return process;
    }
}
