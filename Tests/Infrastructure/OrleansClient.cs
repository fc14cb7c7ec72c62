using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>An Orleans client in the test process, connected to a silo process's gateway port.</summary>
public sealed class OrleansClient : IAsyncDisposable
{
    private readonly IHost _host;

    private OrleansClient(IHost host) => _host = host;

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static Task<OrleansClient> ConnectAsync(int gatewayPort) => ConnectAsync([gatewayPort]);

    /// <summary>A client that knows several silos' gateways, so it outlives any one of them.</summary>
    public static async Task<OrleansClient> ConnectAsync(int[] gatewayPorts)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(c => c.UseLocalhostClustering(gatewayPorts, serviceId: "imorleans", clusterId: "imorleans"));
        var host = builder.Build();
        await host.StartAsync();
        return new OrleansClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // The silo may be gone on purpose (crash tests); nothing left to close cleanly.
        }
        _host.Dispose();
    }
}
