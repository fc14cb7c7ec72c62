using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>One device of one user (key <c>{user}/{device}</c>): its live connection, delivery cursors and push token.</summary>
[Alias("im.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Binds the device to a gateway connection and makes it reachable: every message stored from then on
    /// reaches that gateway live. Returns what was stored before, as <see cref="CatchUpAsync"/> would read it for a
    /// connection that was sent nothing yet (at most <paramref name="room"/> messages; none with 0): a connect is one
    /// call, not two. Fails with limit_exceeded past the device limit.</summary>
    [Alias("ConnectAndRead")] Task<CatchUpPage> ConnectAsync(IGatewayObserver gateway, string connectionId, int room);

    /// <summary>The connection went away; ignored if a newer connection took over.</summary>
    [Alias("Disconnect")] Task DisconnectAsync(string connectionId);

    /// <summary>Takes the device offline if its connection's lease has run out (its gateway stopped renewing it);
    /// nothing otherwise. Asked by the silo's lease sweep.</summary>
    [Alias("EndLeaseIfStale")] Task EndLeaseIfStaleAsync();

    /// <summary>The gateway still holds this connection (sent periodically). Says whether the gateway should
    /// connect it again (the grain was reactivated) or close it (a newer connection took over).</summary>
    [Alias("Touch")] Task<LeaseStatus> TouchAsync(string connectionId);

    /// <summary>The device acknowledged delivery of (conversation, seq).</summary>
    [Alias("Ack")] Task AckAsync(string conversation, long seq);

    /// <summary>The device acknowledged deliveries up to the seq given per conversation: the gateway hands acks over
    /// in batches rather than one call per PUBACK.</summary>
    [Alias("AckMany")] Task AckManyAsync(IReadOnlyDictionary<string, long> highest);

    /// <summary>Reads what a connection has not been sent yet, from the store: after <paramref name="sent"/> (the
    /// connection's positions), the device's cursors and join points, whichever is further. Looks at
    /// <paramref name="only"/> those conversations, or at every conversation of the user when null; returns at most
    /// <paramref name="room"/> messages.</summary>
    [Alias("CatchUp")] Task<CatchUpPage> CatchUpAsync(IReadOnlyDictionary<string, long> sent, IReadOnlyList<string>? only, int room);

    /// <summary>A page of what follows this device's cursors (at most <paramref name="limit"/> per conversation), bounded in
    /// bytes; <paramref name="next"/> is the <see cref="SyncPage.Next"/> of the previous page, or null to start.</summary>
    [Alias("SyncPage")] Task<SyncPage> SyncAsync(int limit, string? next = null);

    /// <summary>The acknowledged position per conversation.</summary>
    [Alias("GetCursors")] Task<IReadOnlyDictionary<string, long>> GetCursorsAsync();


    /// <summary>Ends the device's live session from the server side (account disabled, device removed);
    /// with <paramref name="forget"/> its cursors and push token are deleted too.</summary>
    [OneWay, Alias("EndSession")] Task EndSessionAsync(bool forget);
}
