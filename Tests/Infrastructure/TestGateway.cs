using System.Collections.Concurrent;
using ImOrleans.Models;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A gateway observer that records what device grains push to it, as a real gateway would receive it.</summary>
public sealed class TestGateway : IGatewayObserver
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<MessageRecord>> _messages = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ConversationEvent>> _events = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<PresenceInfo>> _presence = new();

    /// <summary>When false the gateway answers "no such connection", as after a client vanished.</summary>
    public bool Accepting { get; set; } = true;

    public IGatewayObserver Reference { get; private set; } = null!;

    public static TestGateway Create(IClusterClient client)
    {
        var gateway = new TestGateway();
        gateway.Reference = client.CreateObjectReference<IGatewayObserver>(gateway);
        return gateway;
    }

    public IReadOnlyList<MessageRecord> Messages(string user, string device) => Queue(_messages, user, device).ToList();
    public IReadOnlyList<ConversationEvent> Events(string user, string device) => Queue(_events, user, device).ToList();
    public IReadOnlyList<PresenceInfo> Presence(string user, string device) => Queue(_presence, user, device).ToList();

    public Task<bool> DeliverAsync(string deviceKey, string connectionId, IReadOnlyList<MessageRecord> messages)
    {
        if (!Accepting)
            return Task.FromResult(false);
        var q = _messages.GetOrAdd(deviceKey, _ => new());
        foreach (var m in messages)
            q.Enqueue(m);
        return Task.FromResult(true);
    }

    public Task EventAsync(string deviceKey, string connectionId, ConversationEvent evt)
    {
        _events.GetOrAdd(deviceKey, _ => new()).Enqueue(evt);
        return Task.CompletedTask;
    }

    public Task PresenceAsync(string deviceKey, string connectionId, PresenceInfo presence)
    {
        _presence.GetOrAdd(deviceKey, _ => new()).Enqueue(presence);
        return Task.CompletedTask;
    }

    /// <summary>Connections the grains asked this gateway to close.</summary>
    public ConcurrentQueue<string> Closed { get; } = new();

    public Task CloseAsync(string deviceKey, string connectionId, bool takenOver)
    {
        Closed.Enqueue(deviceKey);
        return Task.CompletedTask;
    }

    /// <summary>Connects a device through this gateway (as an MQTT CONNECT would).</summary>
    public Task ConnectAsync(IGrainFactory grains, string user, string device, string? connectionId = null) =>
        grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(user, device)).ConnectAsync(Reference, connectionId ?? Guid.NewGuid().ToString("N"));

    private static ConcurrentQueue<T> Queue<T>(ConcurrentDictionary<string, ConcurrentQueue<T>> map, string user, string device) =>
        map.GetOrAdd(Ids.DeviceKey(user, device), _ => new());
}
