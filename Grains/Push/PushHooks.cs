using ImOrleans.Models;
using Microsoft.Extensions.DependencyInjection;

namespace ImOrleans.Grains.Push;

/// <summary>The calls the delivery path makes into push, one line each where it happens. They do nothing when push is
/// off (no provider configured), so that no push grain is even activated then. All are one-way: push never holds up
/// delivery.</summary>
public static class PushHooks
{
    /// <summary>Whether push is on in this silo (some provider configured): when it is not, nobody needs telling.</summary>
    public static bool Enabled(IServiceProvider services) => services.GetService<PushQueue>() is not null;

    /// <summary>A message was stored for <paramref name="user"/> (call it for every member but the sender).</summary>
    public static void MessageStored(IServiceProvider services, IGrainFactory grains, string user, MessageRecord message, IEnumerable<string> onlineDevices)
    {
        if (message.From != user && services.GetService<PushQueue>() is not null)
            _ = grains.Ref<IPushGrain>(user).OnMessageAsync(message, onlineDevices.ToArray());
    }

    /// <summary>A device of <paramref name="user"/> connected.</summary>
    public static void DeviceOnline(IServiceProvider services, IGrainFactory grains, string user, string device)
    {
        if (services.GetService<PushQueue>() is not null)
            _ = grains.Ref<IPushGrain>(user).DeviceOnlineAsync(device);
    }

    /// <summary>A device was removed from <paramref name="user"/>'s account. Also when push is off: a registration made
    /// while it was on must not outlive its device.</summary>
    public static void DeviceRemoved(IGrainFactory grains, string user, string device) =>
        _ = grains.Ref<IPushGrain>(user).DeviceRemovedAsync(device);
}
