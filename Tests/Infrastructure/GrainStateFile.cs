using System.Text;
using ImOrleans.Grains.Devices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>Reads the embedded server's grain state straight from its file (<c>grains.db</c>, table <c>grain_state</c>),
/// as another process would: to see what reached the disk, not what a grain holds in memory.</summary>
public static class GrainStateFile
{
    private static readonly Lazy<Serializer> OrleansSerializer = new(() => new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(DeviceState).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>());

    /// <summary>The stored state <paramref name="stateName"/> of the grain keyed <paramref name="key"/>, or null.</summary>
    public static async Task<T?> ReadAsync<T>(string dataDirectory, string stateName, string key) where T : class
    {
        await using var db = await OpenAsync(dataDirectory);
        await using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT payload FROM grain_state WHERE state_name = $s AND substr(grain_id, instr(grain_id, '/') + 1) = $k AND payload IS NOT NULL;";
        cmd.Parameters.AddWithValue("$s", stateName);
        cmd.Parameters.AddWithValue("$k", key);
        return await cmd.ExecuteScalarAsync() is byte[] payload ? OrleansSerializer.Value.Deserialize<T>(payload) : null;
    }

    /// <summary>How many stored states hold <paramref name="text"/> (as Orleans writes strings, in UTF-8), and how
    /// many there are in all.</summary>
    public static async Task<(long Holding, long All)> CountHoldingAsync(string dataDirectory, string text)
    {
        await using var db = await OpenAsync(dataDirectory);
        await using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FILTER (WHERE instr(payload, $t) > 0), COUNT(*) FROM grain_state WHERE payload IS NOT NULL;";
        cmd.Parameters.AddWithValue("$t", Encoding.UTF8.GetBytes(text));
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private static async Task<SqliteConnection> OpenAsync(string dataDirectory)
    {
        var db = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "grains.db")};Mode=ReadOnly");
        await db.OpenAsync();
        return db;
    }
}
