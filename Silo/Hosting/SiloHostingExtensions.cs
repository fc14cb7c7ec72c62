using System.Net;
using ImOrleans.Gateway.Attachments;
using ImOrleans.Grains;
using ImOrleans.Grains.Devices;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Storage;
using Microsoft.Data.Sqlite;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting.Kubernetes;
using Orleans.Storage;

namespace ImOrleans.Silo.Hosting;

public static class SiloHostingExtensions
{
    private const string PostgresInvariant = "Npgsql";

    // Orleans' ADO.NET provider knows SQLite under this invariant; Microsoft.Data.Sqlite serves it.
    private const string SqliteInvariant = "System.Data.SQLite";

    /// <summary>The silo: storage schemas first, then Orleans with embedded (SQLite, localhost) or cluster (PostgreSQL) providers.</summary>
    public static WebApplicationBuilder AddImSilo(this WebApplicationBuilder builder)
    {
        Gateway.Hosting.HostingMode.IsCluster(builder.Configuration); // refuses a Storage:Provider it does not know
        var storage = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        var cluster = builder.Configuration.GetSection(SiloClusterOptions.Section).Get<SiloClusterOptions>() ?? new SiloClusterOptions();
        var dashboard = builder.DashboardSettings();
        builder.UseOrleans(silo =>
        {
            if (dashboard.Enabled)
                silo.AddDashboard();
            if (Gateway.Hosting.TelemetryExtensions.ExportsTraces(builder.Configuration))
                silo.AddActivityPropagation(); // one trace from the MQTT publish through the grain calls to each delivery
            silo.AddImGrains(storage);
            silo.Services.AddImPush(builder.Configuration); // off unless a provider is configured (Push:*)
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            if (storage.IsPostgres)
            {
                var advertised = cluster.AdvertisedIP is { Length: > 0 } ip ? IPAddress.Parse(ip) : IPAddress.Loopback;
                silo.ConfigureEndpoints(advertised, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: cluster.AdvertisedIP is { Length: > 0 });
                silo.UseAdoNetClustering(o => { o.Invariant = PostgresInvariant; o.ConnectionString = storage.PostgresConnectionString; });
                silo.UseAdoNetReminderService(o => { o.Invariant = PostgresInvariant; o.ConnectionString = storage.PostgresConnectionString; });
                silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = cluster.ProbeTimeout);
                // In a pod (deploy/kubernetes sets POD_NAMESPACE from the downward API; environment variables are
                // configuration too): silo name = pod name, and a deleted pod's silo is declared dead at once instead
                // of after failure detection. Only there: its options validation fails without POD_NAMESPACE.
                // Membership itself stays in PostgreSQL.
                if (!string.IsNullOrEmpty(builder.Configuration[KubernetesHostingOptions.PodNamespaceEnvironmentVariable]))
                    silo.UseKubernetesHosting();
            }
            else
            {
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, null, cluster.ServiceId, cluster.ClusterId);
            }
        });
        // After the silo (hosted services start in order): the message store is initialized by then.
        builder.Services.AddImAttachmentStore(builder.Configuration);
        builder.Services.AddHostedService<RetentionSweep>();
        return builder;
    }

    /// <summary>Grains, their storage, message store and limits. Shared with the test cluster.</summary>
    public static ISiloBuilder AddImGrains(this ISiloBuilder silo, StorageOptions storage)
    {
        if (storage.IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(storage.PostgreSQL))
                throw new InvalidOperationException("Storage:PostgreSQL (a connection string) is required when Storage:Provider is PostgreSQL");
            silo.AddAdoNetGrainStorage(GrainStorage.Name, o => { o.Invariant = PostgresInvariant; o.ConnectionString = storage.PostgresConnectionString; });
        }
        else
        {
            // Orleans' provider held the embedded grain state before SqliteGrainStorage; it stays as the reader of
            // what it wrote.
            silo.AddAdoNetGrainStorage(GrainStorage.Name, o => { o.Invariant = SqliteInvariant; o.ConnectionString = SqliteConnectionString(storage); });
            UseSqliteGrainStorage(silo.Services, GrainStorage.Name, SqliteConnectionString(storage));
        }
        silo.Services.AddMessageStore(storage);
        silo.Services.AddSingleton<DeviceLeases>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<DeviceLeases>());
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(storage));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StorageInitializer>();
        silo.Services.AddOptions<ChatLimits>().BindConfiguration(ChatLimits.Section)
            .Validate(l => l.MaxGroupMembers >= 2 && l.MaxDevicesPerUser >= 1 && l.MaxBodyLength >= 1 && l.DedupWindow >= 1,
                "Limits: MaxGroupMembers >= 2, MaxDevicesPerUser >= 1, MaxBodyLength >= 1, DedupWindow >= 1")
            .Validate(l => l.MaxSyncBytes >= 1, "Limits:MaxSyncBytes must be at least 1")
            .Validate(l => l.RetentionDays is >= 0 and <= ChatLimits.MaxRetentionDays && l.RetentionSweepInterval > TimeSpan.Zero,
                "Limits:RetentionDays must be 0 (forever) to 36500, and Limits:RetentionSweepInterval positive")
            .Validate(l => l.MaxAttachmentsPerMessage >= 0, "Limits:MaxAttachmentsPerMessage must not be negative")
            .Validate(l => l.EditWindow > TimeSpan.Zero && l.MaxMentions >= 0, "Limits:EditWindow must be positive, Limits:MaxMentions at least 0")
            .Validate(l => l.ConnectionLease > TimeSpan.Zero && l.ConnectionLease <= TimeSpan.FromDays(1),
                "Limits:ConnectionLease must be positive and at most 1.00:00:00")
            .ValidateOnStart();
        return silo;
    }

    /// <summary>Puts a <see cref="SqliteGrainStorage"/> in place of the grain storage registered as <paramref name="name"/>,
    /// which it keeps for the state written before. The silo resolves its lifecycle participant through the same key,
    /// so the new storage stands in there too.</summary>
    private static void UseSqliteGrainStorage(IServiceCollection services, string name, string connectionString)
    {
        var registered = services.Last(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, name));
        var create = registered.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"grain storage '{name}' is not registered by a factory");
        services.Remove(registered);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) =>
            new SqliteGrainStorage(connectionString, (IGrainStorage)create(sp, key), sp.GetRequiredService<Orleans.Serialization.Serializer>(),
                sp.GetRequiredService<ILogger<SqliteGrainStorage>>()));
    }

    public static string SqliteConnectionString(StorageOptions storage) =>
        new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(storage.GrainStatePath) }.ToString();
}
