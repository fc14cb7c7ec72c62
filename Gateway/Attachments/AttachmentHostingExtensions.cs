using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ImOrleans.Gateway.Attachments;

public static class AttachmentHostingExtensions
{
    /// <summary>The attachment store of the hosting mode (files under <c>Storage:DataDirectory</c>, or PostgreSQL),
    /// its options, and the sweep of unreferenced uploads.</summary>
    public static WebApplicationBuilder AddImAttachments(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AttachmentOptions>().BindConfiguration(AttachmentOptions.Section)
            .Validate(a => a.MaxBytes > 0, "Attachments:MaxBytes must be positive")
            .Validate(a => a.AllowedTypes.Length > 0 && a.AllowedTypes.All(t => t.Contains('/')),
                "Attachments:AllowedTypes must list media types such as image/png or image/*")
            .Validate(a => a.UnreferencedLifetime > TimeSpan.Zero && a.CleanupInterval > TimeSpan.Zero,
                "Attachments:UnreferencedLifetime and Attachments:CleanupInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddImAttachmentStore(builder.Configuration);
        builder.Services.AddSingleton<AttachmentCleanup>();
        builder.Services.AddHostedService(s => s.GetRequiredService<AttachmentCleanup>());
        return builder;
    }

    /// <summary>The store alone, for silos too (retention deletes attachments), once per process.</summary>
    public static IServiceCollection AddImAttachmentStore(this IServiceCollection services, IConfiguration cfg)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAttachmentStore>(_ => HostingMode.IsCluster(cfg)
            ? new PostgresAttachmentStore(cfg["Storage:PostgreSQL"]
                ?? throw new InvalidOperationException("Storage:PostgreSQL (a connection string) is required when Storage:Provider is PostgreSQL"))
            : new DiskAttachmentStore(Path.Combine(cfg["Storage:DataDirectory"] ?? "data", "attachments")));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AttachmentStoreInitializer>());
        return services;
    }
}
