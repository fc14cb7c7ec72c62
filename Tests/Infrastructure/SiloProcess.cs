using System.Diagnostics;
using System.Text;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>The real Silo program (as <c>dotnet run --project Silo</c> would start it) in its own process,
/// on free loopback ports, with its data in a folder the test owns.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public int GatewayPort { get; }
    public int HttpPort { get; }
    public int MqttPort { get; }
    public int GrpcPort { get; }

    /// <summary>The API key the internal gRPC API accepts in this process.</summary>
    public const string ApiKey = "test-api-key";
    public string DataDirectory { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    private SiloProcess(Process process, int gatewayPort, int httpPort, int mqttPort, int grpcPort, string dataDirectory)
    {
        GrpcPort = grpcPort;
        _process = process;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        MqttPort = mqttPort;
        DataDirectory = dataDirectory;
    }

    public string HttpBase => $"http://127.0.0.1:{HttpPort}";

    public static async Task<SiloProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var (siloPort, gatewayPort, httpPort, mqttPort, grpcPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { SiloDll(), $"--Storage:DataDirectory={dataDirectory}", $"--Orleans:SiloPort={siloPort}",
                     $"--Orleans:GatewayPort={gatewayPort}", $"--Http:Port={httpPort}", $"--Gateway:MqttPort={mqttPort}",
                     $"--Grpc:Port={grpcPort}", $"--Grpc:ApiKeys:0={ApiKey}" }.Concat(extraArgs))
            psi.ArgumentList.Add(a);
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        var silo = new SiloProcess(Process.Start(psi)!, gatewayPort, httpPort, mqttPort, grpcPort, dataDirectory);
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        await silo.WaitReadyAsync();
        return silo;
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

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"Silo exited with {_process.ExitCode}:\n{Output}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/readyz")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Silo not ready after 90 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>The Silo build output next to this test build (same configuration).</summary>
    private static string SiloDll()
    {
        var testBin = AppContext.BaseDirectory; // .../Tests/bin/{Configuration}/net10.0/
        var parts = testBin.TrimEnd('/').Split('/');
        var configuration = parts[^2];
        var root = new DirectoryInfo(testBin);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImOrleans.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException($"ImOrleans.sln not found above {testBin}");
        var dll = Path.Combine(root.FullName, "Silo", "bin", configuration, "net10.0", "Silo.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first", dll);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }
}
