using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Renews every connection's lease with its device grain. A device grain that no longer knows the
/// connection (reactivated after a silo failure) gets it bound again, which replays what it may have missed.</summary>
public sealed class ConnectionLeaseRenewer(IGrainFactory grains, DeviceConnections connections, IOptions<GatewayOptions> options,
    ILogger<ConnectionLeaseRenewer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TouchInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var c in connections.All.ToList())
            {
                try
                {
                    var device = grains.GetGrain<IDeviceGrain>(c.ClientId);
                    if (!await device.TouchAsync(c.ConnectionId))
                        await device.ConnectAsync(connections.Reference, c.ConnectionId);
                }
                catch (Exception ex)
                {
                    log.LogWarning(ex, "Could not renew the lease of {ClientId}", c.ClientId);
                }
            }
        }
    }
}
