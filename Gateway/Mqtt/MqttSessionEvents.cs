using System.Text.Json;
using System.Threading.RateLimiting;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Connect, disconnect and delivery acknowledgements: binds each MQTT session to its device grain.</summary>
public sealed class MqttSessionEvents(IGrainFactory grains, DeviceConnections connections, MqttConnectionGuard guard, IdempotentCalls idempotent,
    IOptions<GatewayOptions> options, ILogger<MqttSessionEvents> log, ILogger<ConnectionDelivery> deliveryLog)
{
    /// <summary>Where a session keeps its <see cref="DeviceConnection"/>.</summary>
    public const string ConnectionKey = "im.connection";

    public async Task ConnectedAsync(ClientConnectedEventArgs e)
    {
        // A fresh connection every time, even when MQTTnet kept the session of an earlier one (clean session off).
        var slash = e.ClientId.IndexOf('/');
        var o = options.Value;
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.RateBurst,
            TokensPerPeriod = o.RatePerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        var connection = new DeviceConnection(e.ClientId[..slash], e.ClientId[(slash + 1)..], Guid.NewGuid().ToString("N"), limiter,
            e.ProtocolVersion == MQTTnet.Formatter.MqttProtocolVersion.V500, grains.Ref<IDeviceGrain>(e.ClientId),
            o.DeliveryWindow, connections.Publish, deliveryLog) { Transport = guard.TransportOf(e.RemoteEndPoint) };
        e.SessionItems[ConnectionKey] = connection;
        GatewayMetrics.Connects.Add(1, connection.MetricTags);
        GatewayMetrics.Connections.Add(1, connection.MetricTags);
        connection.Session = await ServerOf().GetSessionAsync(e.ClientId);
        connections.Add(connection);
        try
        {
            // Binding the same connection twice is harmless, so a device whose grain was on a silo that just died is
            // bound once the grain is back, not turned away.
            var device = Device(connection);
            await idempotent.InvokeSlowAsync("Connect", () => device.ConnectAsync(connections.Reference, connection.ConnectionId));
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not bind {ClientId} to its device grain; disconnecting", e.ClientId);
            connections.Remove(connection.ClientId, connection.ConnectionId);
            await connections.DisconnectAsync(e.ClientId, MqttDisconnectReasonCode.ServerBusy);
            return;
        }
        // Live traffic flows from here on; this reads what was stored before (the connection drops repeats).
        await connection.Delivery.CatchUpAllAsync();
    }

    public async Task DisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        if (e.SessionItems?[ConnectionKey] is not DeviceConnection connection)
            return;
        connections.Remove(connection.ClientId, connection.ConnectionId);
        connection.Limiter.Dispose();
        GatewayMetrics.Connections.Add(-1, connection.MetricTags);
        // Clean (the client sent DISCONNECT), NotClean (the connection broke or the server closed it), Takeover.
        GatewayMetrics.Disconnects.Add(1, GatewayMetrics.Tag("type", e.DisconnectType.ToString()));
        // The acks gathered so far go now: a device that comes back at once should not get them again.
        await HandOverAcksAsync(connection);
        try
        {
            await Device(connection).DisconnectAsync(connection.ConnectionId);
        }
        catch (Exception ex)
        {
            // The device grain also expires the connection when its lease is not renewed.
            log.LogWarning(ex, "Could not tell the device grain that {ClientId} left", e.ClientId);
        }
    }

    public Task AcknowledgedAsync(ClientAcknowledgedPublishPacketEventArgs e)
    {
        if (e.SessionItems?[ConnectionKey] is not DeviceConnection connection
            || e.PublishPacket.Topic != Topics.Messages(connection.User))
            return Task.CompletedTask;
        connection.Delivery.Acknowledged();
        GatewayMetrics.Acks.Add(1);
        if (!TryReadPosition(e.PublishPacket.Payload, out var conversation, out var seq, out var stored))
            return Task.CompletedTask;
        GatewayMetrics.DeliveryLatency.Record((DateTimeOffset.UtcNow - stored).TotalMilliseconds);
        if (connection.Acks.Add(conversation, seq))
            _ = HandOverAcksLaterAsync(connection);
        return Task.CompletedTask;
    }

    private async Task HandOverAcksLaterAsync(DeviceConnection connection)
    {
        await Task.Delay(options.Value.AckDelay);
        await HandOverAcksAsync(connection);
    }

    /// <summary>Hands the connection's acks to its device grain until none are left (see <see cref="AckBatch"/>).</summary>
    private async Task HandOverAcksAsync(DeviceConnection connection)
    {
        while (connection.Acks.Take() is { } highest)
        {
            try
            {
                await Device(connection).AckManyAsync(highest);
            }
            catch (Exception ex)
            {
                // Lost acks only mean the messages are delivered again later.
                log.LogWarning(ex, "Could not record the acks of {ClientId}", connection.ClientId);
            }
        }
    }

    private static bool TryReadPosition(System.Buffers.ReadOnlySequence<byte> payload, out string conversation, out long seq, out DateTimeOffset stored)
    {
        conversation = "";
        seq = 0;
        stored = default;
        try
        {
            using var doc = JsonDocument.Parse(payload);
            conversation = doc.RootElement.GetProperty("conv").GetString() ?? "";
            seq = doc.RootElement.GetProperty("seq").GetInt64();
            stored = DateTimeOffset.FromUnixTimeMilliseconds(doc.RootElement.GetProperty("ts").GetInt64());
            return conversation.Length > 0;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private IDeviceGrain Device(DeviceConnection c) => grains.Ref<IDeviceGrain>(c.ClientId);

    private MqttServer ServerOf() => _server ?? throw new InvalidOperationException("not attached to the MQTT server");

    private MqttServer? _server;

    /// <summary>The MQTT server is created after this class; it is handed over when the handlers are attached.</summary>
    public void Attach(MqttServer server) => _server = server;
}
