using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Storage;
using Microsoft.Extensions.Options;

namespace ImOrleans.Silo.Hosting;

/// <summary>Creates or migrates every schema at the very first silo lifecycle stage, before clustering,
/// grain storage and the grains themselves touch the database.</summary>
public sealed class StorageInitializer(IOptions<StorageOptions> options, IMessageStore store, ILogger<StorageInitializer> log)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StorageInitializer), ServiceLifecycleStage.First, InitializeAsync);

    private async Task InitializeAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (o.IsPostgres)
        {
            await OrleansSchema.ApplyPostgresAsync(o.PostgreSQL!, ct);
            log.LogInformation("Storage: PostgreSQL at {Database}", DescribePostgres(o.PostgreSQL!));
        }
        else
        {
            Directory.CreateDirectory(o.DataDirectory);
            await OrleansSchema.ApplySqliteAsync(SiloHostingExtensions.SqliteConnectionString(o), ct);
            log.LogInformation("Storage: SQLite files in {DataDirectory}", Path.GetFullPath(o.DataDirectory));
        }
        await store.InitializeAsync(ct);
    }

    private static string DescribePostgres(string connectionString)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Host}:{b.Port}/{b.Database}";
    }
}
