namespace ImOrleans.Tools.LoadGen.Servers;

/// <summary>The ImOrleans server (the built Silo: silo and gateway in one process) on free loopback ports with a fresh
/// data folder: embedded on SQLite, or in cluster mode on a PostgreSQL database (with registration and password login,
/// which cluster mode turns off by default, on). Its per-connection rate limit is raised out of the way, and the limits
/// to what the workload needs (devices per user for the idle connections, members for the fan-out group).</summary>
public static class SiloServer
{
    public sealed record Endpoints(int MqttPort, int HttpPort);

    public static async Task<(ServerProcess Process, Endpoints Ports)> StartAsync(string siloDll, string directory,
        byte[] signingKey, int maxDevicesPerUser, int maxGroupMembers, string? postgres = null)
    {
        var ports = new Endpoints(FreePort.Next(), FreePort.Next());
        var name = postgres is null ? "silo" : "silo-pg";
        var data = Directory.CreateDirectory(Path.Combine(directory, $"{name}-data")).FullName;
        string[] storage = postgres is null ? [] :
        [
            "--Storage:Provider=PostgreSQL",
            $"--Storage:PostgreSQL={postgres}",
            "--Gateway:OpenRegistration=true",
            "--Gateway:PasswordLogin=true",
        ];
        string[] args =
        [
            Path.GetFullPath(siloDll),
            $"--Storage:DataDirectory={data}",
            $"--Auth:SigningKey={Convert.ToBase64String(signingKey)}",
            $"--Orleans:SiloPort={FreePort.Next()}",
            $"--Orleans:GatewayPort={FreePort.Next()}",
            $"--Http:Port={ports.HttpPort}",
            $"--Gateway:MqttPort={ports.MqttPort}",
            "--Grpc:Port=0",
            "--Gateway:RatePerSecond=1000000",
            "--Gateway:RateBurst=1000000",
            // One address registers every account of the run, and the idle scenario logs in by password.
            "--Auth:RegistrationsPerMinute=1000000",
            "--Auth:FailedLoginsPerMinute=1000000",
            $"--Limits:MaxDevicesPerUser={maxDevicesPerUser}",
            $"--Limits:MaxGroupMembers={maxGroupMembers}",
            .. storage,
        ];
        // Started from its own folder, so it reads its appsettings.json (log levels) as `dotnet run --project Silo` does.
        var server = ServerProcess.Start("dotnet", args, Path.GetDirectoryName(Path.GetFullPath(siloDll))!, Path.Combine(directory, $"{name}.log"));
        await WaitReadyAsync(server, ports.HttpPort);
        return (server, ports);
    }

    private static async Task WaitReadyAsync(ServerProcess server, int httpPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
                throw new InvalidOperationException($"the silo exited:\n{server.LogTail()}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{httpPort}/readyz")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the silo was not ready after 120 s:\n{server.LogTail()}");
    }
}
