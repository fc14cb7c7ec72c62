using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

public static class MessageStoreServiceCollectionExtensions
{
    /// <summary>Registers the message store chosen by <paramref name="options"/>.</summary>
    public static IServiceCollection AddMessageStore(this IServiceCollection services, StorageOptions options) =>
        services.AddSingleton<IMessageStore>(sp => Create(options, sp.GetRequiredService<ILoggerFactory>()));

    public static IMessageStore Create(StorageOptions options, ILoggerFactory logs) =>
        options.IsPostgres
            ? new PostgresMessageStore(
                PostgresMessageStore.WithSessionLimits(
                    options.PostgresConnectionString ?? throw new InvalidOperationException("Storage:PostgreSQL (a connection string) is required when Storage:Provider is PostgreSQL"),
                    options),
                options.MaxBatch, logs.CreateLogger<PostgresMessageStore>())
            : new SqliteMessageStore(options.MessagesPath, options.MaxBatch, logs.CreateLogger<SqliteMessageStore>());
}
