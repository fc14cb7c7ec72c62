using Orleans.Configuration;

namespace ImOrleans.Gateway.Hosting;

/// <summary>The gateway's connection to the silo cluster when it runs as its own process.</summary>
public static class OrleansClientExtensions
{
    public static WebApplicationBuilder AddImOrleansClient(this WebApplicationBuilder builder)
    {
        var cfg = builder.Configuration;
        var clusterId = cfg["Orleans:ClusterId"] ?? "imorleans";
        var serviceId = cfg["Orleans:ServiceId"] ?? "imorleans";
        var postgres = HostingMode.IsCluster(cfg);
        builder.UseOrleansClient(client =>
        {
            if (TelemetryExtensions.ExportsTraces(cfg))
                client.AddActivityPropagation();
            if (postgres)
            {
                client.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = serviceId; });
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cfg["Storage:PostgreSQL"]
                        ?? throw new InvalidOperationException("Storage:PostgreSQL (a connection string) is required when Storage:Provider is PostgreSQL");
                });
            }
            else
            {
                client.UseLocalhostClustering(int.TryParse(cfg["Orleans:GatewayPort"], out var port) ? port : 30000, serviceId, clusterId);
            }
        });
        return builder;
    }
}
