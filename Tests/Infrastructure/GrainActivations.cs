using Orleans.Core.Internal;

namespace ImOrleans.Tests.Infrastructure;

public static class GrainActivations
{
    /// <summary>Deactivates the grain as soon as it is idle, as a silo does when it fails over, sheds memory or shuts
    /// down: whatever it held only in memory is gone, and the next call activates it anew from storage.</summary>
    public static Task DeactivateAsync(this IAddressable grain) => grain.Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask();
}
