using System.Collections.Concurrent;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A gateway observer that records what reaches each connection, putting messages in order with the real
/// gateway's <see cref="ConnectionDelivery"/> (the MQTT session replaced by a list).</summary>
public sealed class TestGateway : IGatewayObserver
{
    private readonly ConcurrentDictionary<string, Connection> _connections = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<MessageRecord>> _messages = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ConversationEvent>> _events = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<PresenceInfo>> _presence = new();
    private int _deliverCalls;

    private sealed record Connection(string User, string Id, ConnectionDelivery Delivery);

    public IGatewayObserver Reference { get; private set; } = null!;

    /// <summary>Live messages matching this are lost on their way in, as if a network hiccup ate them.</summary>
    public Func<MessageRecord, bool> LoseLive { get; set; } = _ => false;

    /// <summary>How many times conversations handed this gateway a message (one call per message and gateway).</summary>
    public int DeliverCalls => Volatile.Read(ref _deliverCalls);

    public static TestGateway Create(IClusterClient client)
    {
        var gateway = new TestGateway();
        gateway.Reference = client.CreateObjectReference<IGatewayObserver>(gateway);
        return gateway;
    }

    public IReadOnlyList<MessageRecord> Messages(string user, string device) => Queue(_messages, user, device).ToList();
    public IReadOnlyList<ConversationEvent> Events(string user, string device) => Queue(_events, user, device).ToList();
    public IReadOnlyList<PresenceInfo> Presence(string user, string device) => Queue(_presence, user, device).ToList();

    public Task DeliverAsync(IReadOnlyList<MessageRecord> messages, IReadOnlyList<string> users)
    {
        Interlocked.Increment(ref _deliverCalls);
        foreach (var message in messages.Where(m => !LoseLive(m)))
        {
            foreach (var c in Of(users))
                c.Delivery.Offer(message);
        }
        return Task.CompletedTask;
    }

    public Task EventAsync(ConversationEvent evt, IReadOnlyList<string> users, string? exceptDevice)
    {
        foreach (var (key, _) in _connections.Where(c => users.Contains(c.Value.User) && c.Key != exceptDevice))
            _events.GetOrAdd(key, _ => new()).Enqueue(evt);
        return Task.CompletedTask;
    }

    public Task PresenceAsync(string user, PresenceInfo presence)
    {
        foreach (var (key, _) in _connections.Where(c => c.Value.User == user))
            _presence.GetOrAdd(key, _ => new()).Enqueue(presence);
        return Task.CompletedTask;
    }

    /// <summary>Connections the grains asked this gateway to close.</summary>
    public ConcurrentQueue<string> Closed { get; } = new();

    public Task CloseAsync(string deviceKey, string connectionId, bool takenOver)
    {
        Closed.Enqueue(deviceKey);
        return Task.CompletedTask;
    }

    /// <summary>Connects a device through this gateway as an MQTT CONNECT would: binds it, then reads what it missed.
    /// <paramref name="beforeBind"/> runs once the gateway knows the connection and before its device grain does.</summary>
    public async Task ConnectAsync(IGrainFactory grains, string user, string device, string? connectionId = null, Func<Task>? beforeBind = null)
    {
        var (grain, delivery) = Attach(grains, user, device, connectionId, awaitsBind: true);
        var id = _connections[Ids.DeviceKey(user, device)].Id;
        if (beforeBind is not null)
            await beforeBind();
        await delivery.ConnectAsync(room => grain.ConnectAsync(Reference, id, room));
    }

    /// <summary>A connection whose news has not reached the grains yet (its device grain is not told): it reads what it
    /// missed and takes whatever reaches this gateway for its user.</summary>
    public Task AttachWithoutTellingAsync(IGrainFactory grains, string user, string device) =>
        Attach(grains, user, device, null, awaitsBind: false).Delivery.CatchUpAllAsync();

    private (IDeviceGrain Grain, ConnectionDelivery Delivery) Attach(IGrainFactory grains, string user, string device, string? connectionId,
        bool awaitsBind)
    {
        var key = Ids.DeviceKey(user, device);
        var grain = grains.GetGrain<IDeviceGrain>(key);
        var delivery = new ConnectionDelivery(user, device, grain, ClusterFixture.DeliveryWindow, m =>
        {
            _messages.GetOrAdd(key, _ => new()).Enqueue(m);
            return true;
        }, NullLogger.Instance, awaitsBind);
        _connections[key] = new Connection(user, connectionId ?? Guid.NewGuid().ToString("N"), delivery);
        return (grain, delivery);
    }

    /// <summary>The device acknowledged one delivery (its PUBACK), freeing room in its window.</summary>
    public void Acknowledge(string user, string device) => _connections[Ids.DeviceKey(user, device)].Delivery.Acknowledged();

    private IEnumerable<Connection> Of(IReadOnlyList<string> users) => _connections.Values.Where(c => users.Contains(c.User));

    private static ConcurrentQueue<T> Queue<T>(ConcurrentDictionary<string, ConcurrentQueue<T>> map, string user, string device) =>
        map.GetOrAdd(Ids.DeviceKey(user, device), _ => new());
}
