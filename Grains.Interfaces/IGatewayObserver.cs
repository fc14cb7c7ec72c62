using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>Implemented by each gateway process: device grains push to the connections it holds.
/// Short timeouts so a dead gateway shows up quickly and the device falls back to offline.</summary>
[Alias("im.IGatewayObserver")]
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>Queues messages for the device's session, in order. False when the gateway no longer
    /// holds that connection or its queue overflowed (the gateway then drops the connection, and the device re-syncs).</summary>
    [ResponseTimeout("00:00:05"), Alias("Deliver")]
    Task<bool> DeliverAsync(string deviceKey, string connectionId, IReadOnlyList<MessageRecord> messages);

    [OneWay, Alias("Event")]
    Task EventAsync(string deviceKey, string connectionId, ConversationEvent evt);

    [OneWay, Alias("Presence")]
    Task PresenceAsync(string deviceKey, string connectionId, PresenceInfo presence);

    /// <summary>Closes the connection: a newer one of the same device took over (<paramref name="takenOver"/>),
    /// or the account was disabled or the device removed.</summary>
    [OneWay, Alias("Close")]
    Task CloseAsync(string deviceKey, string connectionId, bool takenOver);
}
