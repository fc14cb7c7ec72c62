using System.Diagnostics;
using System.Text;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A real server program in its own process: the Silo (as <c>dotnet run --project Silo</c> would start
/// it) or a standalone Gateway, on free loopback ports, with its data in a folder the test owns.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    /// <summary>The API key the internal gRPC API accepts in this process.</summary>
    public const string ApiKey = "test-api-key";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    /// <summary>The Orleans gateway port clients connect to (for a Gateway process: the silo's it uses).</summary>
    public int GatewayPort { get; }
    /// <summary>The silo-to-silo port, which names the silo in its <c>SiloAddress</c> (0 for a Gateway process).</summary>
    public int SiloPort { get; }
    public int HttpPort { get; }
    public int MqttPort { get; }
    public int GrpcPort { get; }
    public string DataDirectory { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public string HttpBase => $"http://127.0.0.1:{HttpPort}";
    public bool HasExited => _process.HasExited;

    /// <summary>CPU time (user + system) the server process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Resident memory of the server process.</summary>
    public long ResidentBytes
    {
        get
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }


    private SiloProcess(Process process, int siloPort, int gatewayPort, int httpPort, int mqttPort, int grpcPort, string dataDirectory)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        MqttPort = mqttPort;
        GrpcPort = grpcPort;
        DataDirectory = dataDirectory;
    }

    /// <summary>The Silo program, hosting the gateway unless told otherwise.</summary>
    public static Task<SiloProcess> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartSiloAsync([ProgramDll("Silo")], dataDirectory, extraArgs);

    /// <summary>The Silo again on a stopped one's HTTP port (and data), so that browsers on its pages reconnect to it.</summary>
    public static Task<SiloProcess> RestartAsync(SiloProcess stopped, params string[] extraArgs)
    {
        var (siloPort, gatewayPort) = (FreePort.Next(), FreePort.Next());
        return LaunchAsync([ProgramDll("Silo")], stopped.DataDirectory, siloPort, gatewayPort,
            [$"--Storage:DataDirectory={stopped.DataDirectory}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", .. extraArgs],
            stopped.HttpPort);
    }

    /// <summary>The Silo exactly as the README starts it: <c>dotnet run --project Silo</c> (without rebuilding).</summary>
    public static Task<SiloProcess> StartWithDotnetRunAsync(string dataDirectory, params string[] extraArgs) =>
        StartSiloAsync(["run", "--no-build", "-c", BuildOutput.Configuration, "--project", Path.Combine(BuildOutput.SolutionRoot, "Silo"), "--"],
            dataDirectory, [$"--Auth:SigningKeyFile={Path.Combine(dataDirectory, "jwt-signing.key")}", .. extraArgs]);

    /// <summary>The standalone Gateway program, a client of the cluster that <paramref name="extraArgs"/> name.</summary>
    public static Task<SiloProcess> StartGatewayAsync(string dataDirectory, params string[] extraArgs) =>
        LaunchAsync([ProgramDll("Gateway")], dataDirectory, 0, 0, [$"--Auth:SigningKeyFile={Path.Combine(dataDirectory, "jwt-signing.key")}", .. extraArgs]);

    private static Task<SiloProcess> StartSiloAsync(string[] command, string dataDirectory, string[] extraArgs)
    {
        var (siloPort, gatewayPort) = (FreePort.Next(), FreePort.Next());
        return LaunchAsync(command, dataDirectory, siloPort, gatewayPort,
            [$"--Storage:DataDirectory={dataDirectory}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", .. extraArgs]);
    }

    /// <summary>Starts <c>dotnet {command} {ports} {args}</c> and waits until it answers <c>/readyz</c>.</summary>
    private static async Task<SiloProcess> LaunchAsync(string[] command, string dataDirectory, int siloPort, int gatewayPort, string[] args, int httpPort = 0)
    {
        if (httpPort == 0)
            httpPort = FreePort.Next();
        var (mqttPort, grpcPort) = (FreePort.Next(), FreePort.Next());
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in command.Concat([$"--Http:Port={httpPort}", $"--Gateway:MqttPort={mqttPort}",
                     $"--Grpc:Port={grpcPort}", $"--Grpc:ApiKeys:0={ApiKey}"]).Concat(args))
            psi.ArgumentList.Add(a);
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        var server = new SiloProcess(Process.Start(psi)!, siloPort, gatewayPort, httpPort, mqttPort, grpcPort, dataDirectory);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a power cut of the process.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: the host shuts down gracefully.</summary>
    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", $"-TERM {_process.Id}"))
            await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGSTOP: the process freezes where it is, sockets and transactions open, as in a long GC pause or a
    /// stalled VM. <see cref="ResumeAsync"/> (SIGCONT) lets it go on.</summary>
    public Task SuspendAsync() => SignalAsync("STOP");

    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        await kill.WaitForExitAsync();
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // Its last lines (why it exited) may still be on their way through the output readers: waiting for
                // the exit also waits for those to reach their end.
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"Server exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/readyz")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Server not ready after 90 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>A program's build output next to this test build (same configuration).</summary>
    private static string ProgramDll(string program) => BuildOutput.Dll(program, program);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }
}
