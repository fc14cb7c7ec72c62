using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Models;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The connections this gateway holds, and the observer through which conversations and users reach them.
/// Everything sent to a device goes into its own session's outbox (<see cref="MqttOutbox"/>), so each device session
/// gets its own copy and a slow client never holds up another.</summary>
public sealed class DeviceConnections(IServiceProvider services, ILogger<DeviceConnections> log) : IGatewayObserver
{
    private readonly ConcurrentDictionary<string, DeviceConnection> _byClientId = new();

    // User → its connections here, replaced whole on change so that fan-out reads it without a lock.
    private readonly ConcurrentDictionary<string, DeviceConnection[]> _byUser = new();

    private readonly Lazy<IGatewayObserver> _reference = new(() => services.GetRequiredService<IGrainFactory>()
        .CreateObjectReference<IGatewayObserver>(services.GetRequiredService<DeviceConnections>()));

    /// <summary>This gateway as the grains see it (one reference per process).</summary>
    public IGatewayObserver Reference => _reference.Value;

    public IEnumerable<DeviceConnection> All => _byClientId.Values;

    /// <summary>Adds a new connection; an older one of the same device here is taken over: it gets nothing more and is
    /// told so (MQTT 5: DISCONNECT Session taken over).</summary>
    public void Add(DeviceConnection connection)
    {
        DeviceConnection? replaced;
        lock (_byUser)
        {
            if (_byClientId.TryGetValue(connection.ClientId, out replaced))
                RemoveFromUser(replaced);
            _byClientId[connection.ClientId] = connection;
            _byUser[connection.User] = [.. _byUser.GetValueOrDefault(connection.User, []), connection];
        }
        if (replaced is null)
            return;
        replaced.Delivery.Close();
        Disconnect(replaced, MqttDisconnectReasonCode.SessionTakenOver);
    }

    /// <summary>Removes the connection unless a newer one of the same device replaced it; the one removed, if any.</summary>
    public DeviceConnection? Remove(string clientId, string connectionId)
    {
        DeviceConnection? c;
        lock (_byUser)
        {
            if (!_byClientId.TryGetValue(clientId, out c) || c.ConnectionId != connectionId
                || !_byClientId.TryRemove(new KeyValuePair<string, DeviceConnection>(clientId, c)))
                return null;
            RemoveFromUser(c);
        }
        // Outside the lock: a delivery that finds its connection too far behind removes it while it holds its own lock.
        c.Delivery.Close();
        return c;
    }

    public Task DeliverAsync(IReadOnlyList<MessageRecord> messages, IReadOnlyList<string> users)
    {
        foreach (var user in users)
        {
            foreach (var connection in _byUser.GetValueOrDefault(user, []))
            {
                foreach (var message in messages)
                    connection.Delivery.Offer(message);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>Hands one message to the client (called by its <see cref="ConnectionDelivery"/>, in order).</summary>
    public bool Publish(DeviceConnection connection, MessageRecord message)
    {
        if (connection.Session.TryPublish(connection.MessagesTopic, Wire.MessageBytes(message), MqttQualityOfServiceLevel.AtLeastOnce,
                sent: new MqttOutbox.Sent(message.Conversation, message.Seq, message.Timestamp.ToUnixTimeMilliseconds())))
        {
            GatewayMetrics.Deliveries.Add(1);
            return true;
        }
        if (connection.Session.Outbox.IsClosed)
            return false; // the connection is ending; its device reads on from its cursor next time
        // Too far behind: drop it rather than grow without bound; on reconnect it replays from its cursor.
        log.LogWarning("Device {Device} has {InFlight} unacknowledged deliveries; disconnecting it", connection.ClientId, connection.Delivery.InFlight);
        if (Remove(connection.ClientId, connection.ConnectionId) is not null)
            Disconnect(connection, MqttDisconnectReasonCode.QuotaExceeded);
        return false;
    }

    public Task EventAsync(ConversationEvent evt, IReadOnlyList<string> users, string? exceptDevice)
    {
        var qos = evt.Type == EventTypes.Typing ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce;
        byte[]? payload = null;
        foreach (var user in users)
        {
            foreach (var connection in _byUser.GetValueOrDefault(user, []))
            {
                if (connection.ClientId != exceptDevice)
                    connection.Session.TryPublish(Topics.Events(user), payload ??= Wire.Bytes(Wire.Event(evt)), qos);
            }
        }
        return Task.CompletedTask;
    }

    public Task PresenceAsync(string user, PresenceInfo presence)
    {
        byte[]? payload = null;
        foreach (var connection in _byUser.GetValueOrDefault(user, []))
            connection.Session.TryPublish(Topics.Presence(user), payload ??= Wire.Bytes(Wire.Presence(presence)), MqttQualityOfServiceLevel.AtLeastOnce);
        return Task.CompletedTask;
    }

    public Task CloseAsync(string deviceKey, string connectionId, bool takenOver)
    {
        if (Remove(deviceKey, connectionId) is { } connection)
            Disconnect(connection, takenOver ? MqttDisconnectReasonCode.SessionTakenOver : MqttDisconnectReasonCode.NotAuthorized);
        return Task.CompletedTask;
    }

    /// <summary>Sends a gateway-made payload (RPC reply, error event, sent receipt) to one connection.</summary>
    public void Send(DeviceConnection connection, string topic, JsonNode payload, byte[]? correlationData = null) =>
        connection.Session.TryPublish(topic, Wire.Bytes(payload), MqttQualityOfServiceLevel.AtLeastOnce, correlationData);

    /// <summary>Tells the client why it must go, then closes its connection; does not wait for that (a grain may be
    /// calling, and the connection's end calls its device grain).</summary>
    public static void Disconnect(DeviceConnection connection, MqttDisconnectReasonCode reason) => _ = connection.Session.DisconnectAsync(reason);

    /// <summary>The connection this gateway holds for a device, if any.</summary>
    public DeviceConnection? Find(string clientId) => _byClientId.GetValueOrDefault(clientId);

    private void RemoveFromUser(DeviceConnection c)
    {
        var rest = _byUser.GetValueOrDefault(c.User, []).Where(x => x != c).ToArray();
        if (rest.Length == 0)
            _byUser.TryRemove(c.User, out _);
        else
            _byUser[c.User] = rest;
    }
}
