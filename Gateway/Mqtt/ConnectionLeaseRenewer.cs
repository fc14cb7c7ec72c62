using ImOrleans.Gateway.Hosting;
using ImOrleans.Models;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Renews every connection's lease with its device grain. A device grain that no longer knows the
/// connection (reactivated after a silo failure) gets it bound again, and the connection reads what it may have missed.</summary>
public sealed class ConnectionLeaseRenewer(IGrainFactory grains, DeviceConnections connections, IOptions<GatewayOptions> options,
    ILogger<ConnectionLeaseRenewer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TouchInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // A connection bound within the last half interval has a fresh lease: the next sweep renews it, at most one
            // and a half intervals after its bind (at most 135 s; the lease is 180). After a gateway restart its thousands
            // of reconnects are not all renewed again at once, seconds after their bind.
            var freshSince = Environment.TickCount64 - (long)(options.Value.TouchInterval / 2).TotalMilliseconds;
            // In parallel, bounded: a sweep over many connections must finish well inside the lease.
            await Parallel.ForEachAsync(connections.All.Where(c => c.BoundAt < freshSince).ToList(), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = stoppingToken },
                async (c, _) =>
                {
                    try
                    {
                        var device = grains.Ref<IDeviceGrain>(c.ClientId);
                        switch (await device.TouchAsync(c.ConnectionId))
                        {
                            case LeaseStatus.Unknown:
                                // Bound again without a page (room 0): the connection reads from where it stands.
                                await device.ConnectAsync(connections.Reference, c.ConnectionId, 0);
                                c.BoundAt = Environment.TickCount64;
                                await c.Delivery.CatchUpAllAsync();
                                break;
                            case LeaseStatus.Resync:
                                await c.Delivery.CatchUpAllAsync();
                                break;
                            case LeaseStatus.Superseded:
                                await connections.CloseAsync(c.ClientId, c.ConnectionId, takenOver: true);
                                break;
                            case LeaseStatus.Ended:
                                await connections.CloseAsync(c.ClientId, c.ConnectionId, takenOver: false);
                                break;
                        }
                    }
                    catch (Exception ex)
                    {
                        log.LogWarning(ex, "Could not renew the lease of {ClientId}", c.ClientId);
                    }
                });
        }
    }
}
