using System.Diagnostics;
using Npgsql;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A real PostgreSQL server for the tests that need one: the one named by IM_TEST_PG (a connection
/// string, as .ci/run provides), else a throwaway server this process starts on a free loopback port.</summary>
public static class PostgresServer
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _baseConnectionString;

    /// <summary>A connection string to a fresh, empty database named after <paramref name="prefix"/>.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var baseCs = await EnsureStartedAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var conn = new NpgsqlConnection(baseCs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(baseCs) { Database = name, Pooling = true }.ToString();
    }

    private static async Task<string> EnsureStartedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _baseConnectionString ??= Environment.GetEnvironmentVariable("IM_TEST_PG") is { Length: > 0 } cs
                ? cs
                : await StartOwnAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<string> StartOwnAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            : null;
        if (bin is null)
            throw new InvalidOperationException("PostgreSQL is not installed: run `apt-get install -y postgresql`, or set IM_TEST_PG to a connection string");

        var root = TempDirectory.Create("pg");
        var port = FreePort.Next();
        // initdb refuses to run as root; run the server as the postgres user when we are root.
        var asRoot = Environment.UserName == "root";
        if (asRoot)
            await RunAsync("chown", $"postgres {root}");
        File.WriteAllText(Path.Combine(root, "pw"), "orleans");
        if (asRoot)
            await RunAsync("chown", $"postgres {Path.Combine(root, "pw")}");
        await RunAsPostgresAsync(asRoot, Path.Combine(bin, "initdb"),
            $"-D {root}/data -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 --pwfile={root}/pw");
        // As many connections as .ci/run's server allows: the default 100 ran out once, with silos of several tests
        // (each with its pools) open at the same time.
        await RunAsPostgresAsync(asRoot, Path.Combine(bin, "pg_ctl"),
            $"-D {root}/data -l {root}/server.log -w -t 30 -o \"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=on -c max_connections=300\" start");
        _stop = () => RunAsPostgresAsync(asRoot, Path.Combine(bin, "pg_ctl"), $"-D {root}/data -m immediate -w stop");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAsync().GetAwaiter().GetResult(); // if the cleanup did not run
        return $"Host=127.0.0.1;Port={port};Username=postgres;Password=orleans;Database=postgres";
    }

    // Stops the server this process started, if it started one.
    private static Func<Task>? _stop;

    /// <summary>Stops the server this process started (not IM_TEST_PG's); called once the tests are done, before their
    /// data folders go.</summary>
    public static async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stop, null) is { } stop)
            await stop();
    }

    private static Task RunAsPostgresAsync(bool asRoot, string exe, string args) =>
        asRoot ? RunAsync("runuser", $"-u postgres -- {exe} {args}") : RunAsync(exe, args);

    private static async Task RunAsync(string exe, string args)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{exe} {args} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }
}
