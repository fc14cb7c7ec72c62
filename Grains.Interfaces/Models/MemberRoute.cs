namespace ImOrleans.Models;

/// <summary>Where a user's connected devices are, as a conversation needs it to fan out: one call per gateway
/// rather than one per device.</summary>
/// <param name="Version">Grows with every change (across reactivations too), so that a late, older route never
/// overwrites a newer one.</param>
/// <param name="Gateways">The gateways holding at least one of the user's connections.</param>
/// <param name="HasOfflineDevices">Some registered device is not connected: a stored message may need a push.</param>
[GenerateSerializer, Immutable, Alias("im.MemberRoute")]
public sealed record MemberRoute(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<IGatewayObserver> Gateways,
    [property: Id(2)] bool HasOfflineDevices);
