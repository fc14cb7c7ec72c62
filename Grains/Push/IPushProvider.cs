namespace ImOrleans.Grains.Push;

/// <summary>One push service (FCM, APNs, a vendor, a webhook). Registered only when configured. Implementations are
/// singletons called from several workers at once, and never throw for an answer of the service: they classify it.</summary>
public interface IPushProvider
{
    /// <summary>The provider name clients register with (<see cref="Models.PushProviders"/>).</summary>
    string Name { get; }

    /// <summary>Sends one alert and says how the service answered.</summary>
    Task<PushResult> SendAsync(PushNotification notification, CancellationToken ct);

    /// <summary>Null when this server may send to <paramref name="target"/>, else why not (checked at registration,
    /// after the token's shape).</summary>
    string? Refuse(Models.PushTarget target) => null;
}
