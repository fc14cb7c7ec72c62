using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>Implemented by each gateway process. Conversations fan out to it once per gateway, naming the users
/// concerned; the gateway hands each message to every connection of those users it holds. Each connection keeps its
/// own position per conversation, so that a message that arrives out of turn (after a gap, or while the window is
/// full) is read again from the store through the device grain instead: nothing is lost, reordered or duplicated.
/// Every call is one-way: a dead gateway costs its callers nothing.</summary>
[Alias("im.IGatewayObserver")]
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>Stored messages of one conversation, in seq order (those one append stored), for the connections of
    /// <paramref name="users"/> on this gateway.</summary>
    [OneWay, Alias("DeliverAll")]
    Task DeliverAsync(IReadOnlyList<MessageRecord> messages, IReadOnlyList<string> users);

    /// <summary>An event for the connections of <paramref name="users"/>, except the device <paramref name="exceptDevice"/>
    /// (a device key, or null).</summary>
    [OneWay, Alias("Event")]
    Task EventAsync(ConversationEvent evt, IReadOnlyList<string> users, string? exceptDevice);

    /// <summary>A contact's presence changed, for every connection of <paramref name="user"/>.</summary>
    [OneWay, Alias("Presence")]
    Task PresenceAsync(string user, PresenceInfo presence);

    /// <summary>Closes the connection: a newer one of the same device took over (<paramref name="takenOver"/>),
    /// or the account was disabled or the device removed.</summary>
    [OneWay, Alias("Close")]
    Task CloseAsync(string deviceKey, string connectionId, bool takenOver);
}
