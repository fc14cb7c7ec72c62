using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>One device of one user (key <c>{user}/{device}</c>): its live connection, delivery cursors and push token.</summary>
[Alias("im.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Binds the device to a gateway connection, replays everything after its cursors
    /// through the gateway in order, then lets live traffic through. Fails with limit_exceeded past the device limit.</summary>
    [Alias("Connect")] Task ConnectAsync(IGatewayObserver gateway, string connectionId);

    /// <summary>The connection went away; ignored if a newer connection took over.</summary>
    [Alias("Disconnect")] Task DisconnectAsync(string connectionId);

    /// <summary>The gateway still holds this connection (sent periodically). Says whether the gateway should
    /// connect it again (the grain was reactivated) or close it (a newer connection took over).</summary>
    [Alias("Touch")] Task<LeaseStatus> TouchAsync(string connectionId);

    /// <summary>The device acknowledged delivery of (conversation, seq).</summary>
    [Alias("Ack")] Task AckAsync(string conversation, long seq);

    /// <summary>The device acknowledged <paramref name="count"/> deliveries, the highest seq of each conversation
    /// given: the gateway hands acks over in batches rather than one call per PUBACK.</summary>
    [Alias("AckMany")] Task AckManyAsync(IReadOnlyDictionary<string, long> highest, int count);

    /// <summary>A page of what follows this device's cursors (at most <paramref name="limit"/> per conversation), bounded in
    /// bytes; <paramref name="next"/> is the <see cref="SyncPage.Next"/> of the previous page, or null to start.</summary>
    [Alias("SyncPage")] Task<SyncPage> SyncAsync(int limit, string? next = null);

    /// <summary>The acknowledged position per conversation.</summary>
    [Alias("GetCursors")] Task<IReadOnlyDictionary<string, long>> GetCursorsAsync();

    /// <summary>Sets the push provider and token used when the device is offline.</summary>
    [Alias("SetPush")] Task SetPushAsync(string provider, string token);

    /// <summary>Ends the device's live session from the server side (account disabled, device removed);
    /// with <paramref name="forget"/> its cursors and push token are deleted too.</summary>
    [OneWay, Alias("EndSession")] Task EndSessionAsync(bool forget);

    /// <summary>A new message for this device.</summary>
    [OneWay, Alias("OnMessage")] Task OnMessageAsync(MessageRecord message);

    [OneWay, Alias("OnEvent")] Task OnEventAsync(ConversationEvent evt);

    [OneWay, Alias("OnPresence")] Task OnPresenceAsync(PresenceInfo presence);
}
