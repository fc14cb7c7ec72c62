using System.Threading.RateLimiting;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Models;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Connect, disconnect and delivery acknowledgements: binds each MQTT session to its device grain.</summary>
public sealed class MqttSessionEvents(IGrainFactory grains, DeviceConnections connections, IdempotentCalls idempotent,
    IOptions<GatewayOptions> options, ILogger<MqttSessionEvents> log, ILogger<ConnectionDelivery> deliveryLog)
{
    // Made once: a rate limiter copies its options, and a method group would make a delegate per connection.
    private readonly TokenBucketRateLimiterOptions _rate = new()
    {
        TokenLimit = options.Value.RateBurst,
        TokensPerPeriod = options.Value.RatePerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        // Refilled by the publish that asks (PublishRouter), not by a timer: a timer per connection fired 15 000
        // times a second for 15 000 idle connections, a third of a core doing nothing.
        AutoReplenishment = false,
    };
    private readonly Func<DeviceConnection, MessageRecord, bool> _publish = connections.Publish;

    public async Task ConnectedAsync(MqttSession session)
    {
        var slash = session.ClientId.IndexOf('/');
        var connection = new DeviceConnection(session.ClientId[..slash], session.ClientId[(slash + 1)..], Guid.NewGuid().ToString("N"),
            _rate, session, grains.Ref<IDeviceGrain>(session.ClientId), options.Value.DeliveryWindow, _publish, deliveryLog);
        session.Connection = connection;
        GatewayMetrics.Connects.Add(1, connection.MetricTags);
        GatewayMetrics.Connections.Add(1, connection.MetricTags);
        connections.Add(connection);
        try
        {
            // Binding the same connection twice is harmless, so a device whose grain was on a silo that just died is
            // bound once the grain is back, not turned away. The bind returns the first page of what the device missed
            // (stored before it was routed here; the connection drops what it gets twice), and the connection reads
            // on from there until it is caught up or its window is full.
            var device = Device(connection);
            await connection.Delivery.ConnectAsync(async room =>
            {
                var page = await idempotent.InvokeSlowAsync("Connect", () => device.ConnectAsync(connections.Reference, connection.ConnectionId, room));
                connection.BoundAt = Environment.TickCount64;
                return page;
            });
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not bind {ClientId} to its device grain; disconnecting", session.ClientId);
            connections.Remove(connection.ClientId, connection.ConnectionId);
            DeviceConnections.Disconnect(connection, MqttDisconnectReasonCode.ServerBusy);
        }
    }

    public async Task DisconnectedAsync(MqttSession session)
    {
        if (session.Connection is not { } connection)
            return;
        connections.Remove(connection.ClientId, connection.ConnectionId);
        connection.DisposeLimiter();
        GatewayMetrics.Connections.Add(-1, connection.MetricTags);
        // Clean (the client sent DISCONNECT), NotClean (the connection broke or the server closed it), Takeover.
        GatewayMetrics.Disconnects.Add(1, GatewayMetrics.Tag("type", session.EndKind));
        // The acks gathered so far go now: a device that comes back at once should not get them again.
        await HandOverAcksAsync(connection);
        try
        {
            await Device(connection).DisconnectAsync(connection.ConnectionId);
        }
        catch (Exception ex)
        {
            // The device grain also expires the connection when its lease is not renewed.
            log.LogWarning(ex, "Could not tell the device grain that {ClientId} left", session.ClientId);
        }
    }

    /// <summary>The client acknowledged one of our QoS 1 publishes; <paramref name="sent"/> is what it carried.</summary>
    public void Acknowledged(DeviceConnection? connection, MqttOutbox.Sent? sent)
    {
        if (connection is null || sent is not { Conversation: not null } delivery)
            return;
        GatewayMetrics.Acks.Add(1);
        GatewayMetrics.DeliveryLatency.Record(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - delivery.StoredMs);
        Delivered(connection, delivery);
    }

    /// <summary>One of our QoS 1 publishes was too large for the client and never sent, and everything sent before it is
    /// acknowledged: for the device it counts as delivered (not as acknowledged, in the metrics).</summary>
    public void Skipped(DeviceConnection? connection, MqttOutbox.Sent sent)
    {
        if (connection is not null && sent.Conversation is not null)
            Delivered(connection, sent);
    }

    private void Delivered(DeviceConnection connection, MqttOutbox.Sent delivery)
    {
        connection.Delivery.Acknowledged();
        if (connection.Acks.Add(delivery.Conversation!, delivery.Seq))
            _ = HandOverAcksLaterAsync(connection);
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

    private IDeviceGrain Device(DeviceConnection c) => grains.Ref<IDeviceGrain>(c.ClientId);
}
