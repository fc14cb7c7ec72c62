using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Models;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The connections this gateway holds, and the observer through which device grains reach them.
/// Everything sent to a device goes into its own MQTTnet session queue, so each device session gets
/// its own copy and a slow client never holds up another.</summary>
public sealed class DeviceConnections(IGrainFactory grains, IServiceProvider services, IOptions<GatewayOptions> options,
    ILogger<DeviceConnections> log) : IGatewayObserver
{
    private readonly ConcurrentDictionary<string, DeviceConnection> _byClientId = new();
    private readonly Lazy<IGatewayObserver> _reference = new(() => grains.CreateObjectReference<IGatewayObserver>(services.GetRequiredService<DeviceConnections>()));

    /// <summary>This gateway as the grains see it (one reference per process).</summary>
    public IGatewayObserver Reference => _reference.Value;

    public IEnumerable<DeviceConnection> All => _byClientId.Values;

    public DeviceConnection? Find(string clientId) => _byClientId.GetValueOrDefault(clientId);

    public void Add(DeviceConnection connection) => _byClientId[connection.ClientId] = connection;

    /// <summary>Removes the connection unless a newer one of the same device replaced it.</summary>
    public bool Remove(string clientId, string connectionId) =>
        _byClientId.TryGetValue(clientId, out var c) && c.ConnectionId == connectionId
        && _byClientId.TryRemove(new KeyValuePair<string, DeviceConnection>(clientId, c));

    public async Task<bool> DeliverAsync(string deviceKey, string connectionId, IReadOnlyList<MessageRecord> messages)
    {
        if (Current(deviceKey, connectionId) is not { Session: { } session } connection)
            return false;
        foreach (var m in messages)
        {
            if (connection.Sent() > options.Value.MaxInFlightPerDevice || !Enqueue(session, Topics.Messages(connection.User), Wire.MessageBytes(m), MqttQualityOfServiceLevel.AtLeastOnce))
            {
                // Too far behind: drop it rather than grow without bound; on reconnect it replays from its cursor.
                log.LogWarning("Device {Device} has {InFlight} unacknowledged deliveries; disconnecting it", deviceKey, connection.InFlight);
                Remove(deviceKey, connectionId);
                await DisconnectAsync(deviceKey, MqttDisconnectReasonCode.QuotaExceeded);
                return false;
            }
            GatewayMetrics.Deliveries.Add(1);
        }
        return true;
    }

    public Task EventAsync(string deviceKey, string connectionId, ConversationEvent evt)
    {
        if (Current(deviceKey, connectionId) is { Session: { } session } connection)
        {
            var qos = evt.Type == EventTypes.Typing ? MqttQualityOfServiceLevel.AtMostOnce : MqttQualityOfServiceLevel.AtLeastOnce;
            Enqueue(session, Topics.Events(connection.User), Wire.Event(evt), qos);
        }
        return Task.CompletedTask;
    }

    public Task PresenceAsync(string deviceKey, string connectionId, PresenceInfo presence)
    {
        if (Current(deviceKey, connectionId) is { Session: { } session } connection)
            Enqueue(session, Topics.Presence(connection.User), Wire.Presence(presence), MqttQualityOfServiceLevel.AtLeastOnce);
        return Task.CompletedTask;
    }

    public async Task CloseAsync(string deviceKey, string connectionId, bool takenOver)
    {
        if (Current(deviceKey, connectionId) is not null && Remove(deviceKey, connectionId))
            await DisconnectAsync(deviceKey, takenOver ? MqttDisconnectReasonCode.SessionTakenOver : MqttDisconnectReasonCode.NotAuthorized);
    }

    /// <summary>Sends a gateway-made payload (RPC reply, error event, sent receipt) to one connection.</summary>
    public void Send(DeviceConnection connection, string topic, JsonNode payload, byte[]? correlationData = null)
    {
        if (connection.Session is { } session)
            Enqueue(session, topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, correlationData);
    }

    public async Task DisconnectAsync(string clientId, MqttDisconnectReasonCode reason)
    {
        try
        {
            await services.GetRequiredService<MqttServer>().DisconnectClientAsync(clientId, reason);
        }
        catch (Exception ex)
        {
            log.LogDebug(ex, "Disconnecting {ClientId} failed; it is probably gone already", clientId);
        }
    }

    private DeviceConnection? Current(string deviceKey, string connectionId) =>
        _byClientId.TryGetValue(deviceKey, out var c) && c.ConnectionId == connectionId ? c : null;

    private static bool Enqueue(MqttSessionStatus session, string topic, JsonNode payload, MqttQualityOfServiceLevel qos, byte[]? correlationData = null) =>
        Enqueue(session, topic, Wire.Bytes(payload), qos, correlationData);

    private static bool Enqueue(MqttSessionStatus session, string topic, byte[] payload, MqttQualityOfServiceLevel qos, byte[]? correlationData = null)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithContentType("application/json")
            .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData)
            .WithQualityOfServiceLevel(qos);
        if (correlationData is not null)
            builder.WithCorrelationData(correlationData);
        var message = builder.Build();
        return session.TryEnqueueApplicationMessage(message, out _);
    }
}
