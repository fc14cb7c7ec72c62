using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Devices;

/// <summary>When the connection lease of each device grain on this silo runs out, and one sweep that tells those whose
/// lease ran out (<see cref="IDeviceGrain.EndLeaseIfStaleAsync"/>). A grain timer per connected device cost about 450
/// bytes and a timer each: 15 000 of them at 15 000 idle connections. The lease ends up to a tenth of it late (at most
/// 10 s), which only delays going offline for a gateway that died.</summary>
public sealed class DeviceLeases(IGrainFactory grains, IOptions<ChatLimits> limits, ILogger<DeviceLeases> log) : BackgroundService
{
    // Device grain → when its lease ends (Environment.TickCount64).
    private readonly ConcurrentDictionary<GrainId, long> _ends = new();

    private TimeSpan SweepInterval =>
        TimeSpan.FromTicks(Math.Clamp(limits.Value.ConnectionLease.Ticks / 10, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 10));

    /// <summary>The device's lease ends <paramref name="after"/> from now, not when it was due before.</summary>
    public void EndsAfter(GrainId device, TimeSpan after) => _ends[device] = Environment.TickCount64 + (long)after.TotalMilliseconds;

    /// <summary>The device has no lease here any more (offline, or its activation is going).</summary>
    public void Forget(GrainId device) => _ends.TryRemove(device, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = Environment.TickCount64;
            foreach (var (device, end) in _ends)
            {
                // Removed only if not renewed meanwhile; the grain has the last word (it renews the entry if its own
                // clock says the lease is not over).
                if (end <= now && _ends.TryRemove(new KeyValuePair<GrainId, long>(device, end)))
                    _ = EndAsync(device);
            }
        }
    }

    private async Task EndAsync(GrainId device)
    {
        try
        {
            await grains.GetGrain<IDeviceGrain>(device).EndLeaseIfStaleAsync();
        }
        catch (Exception ex)
        {
            // Asked again at the next sweep: a device whose gateway died must not stay online for good.
            log.LogWarning(ex, "Could not end the lease of {Device}; retrying", device);
            _ends.TryAdd(device, Environment.TickCount64);
        }
    }
}
