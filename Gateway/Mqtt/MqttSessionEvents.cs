using System.Text.Json;
using System.Threading.RateLimiting;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Connect, disconnect and delivery acknowledgements: binds each MQTT session to its device grain.</summary>
public sealed class MqttSessionEvents(IGrainFactory grains, DeviceConnections connections, GuardedConnections guarded, IdempotentCalls idempotent,
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
            // Refilled by the publish that asks (PublishRouter), not by a timer: a timer per connection fired 15 000
            // times a second for 15 000 idle connections, a third of a core doing nothing.
            AutoReplenishment = false,
        });
        var connection = new DeviceConnection(e.ClientId[..slash], e.ClientId[(slash + 1)..], Guid.NewGuid().ToString("N"), limiter,
            e.ProtocolVersion == MQTTnet.Formatter.MqttProtocolVersion.V500, grains.Ref<IDeviceGrain>(e.ClientId),
            o.DeliveryWindow, connections.Publish, deliveryLog) { Transport = guarded.TransportOf(e.RemoteEndPoint), Remote = e.RemoteEndPoint?.ToString() };
        e.SessionItems[ConnectionKey] = connection;
        GatewayMetrics.Connects.Add(1, connection.MetricTags);
        GatewayMetrics.Connections.Add(1, connection.MetricTags);
        connection.Session = await ServerOf().GetSessionAsync(e.ClientId);
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
            log.LogWarning(ex, "Could not bind {ClientId} to its device grain; disconnecting", e.ClientId);
            connections.Remove(connection.ClientId, connection.ConnectionId);
            await connections.DisconnectAsync(connection, MqttDisconnectReasonCode.ServerBusy);
            return;
        }
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
            || e.PublishPacket.Topic != connection.MessagesTopic)
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

    /// <summary>Where an acknowledged delivery stands: its conversation, seq and store time, read straight from the
    /// payload we wrote (<see cref="Wire.MessageBytes"/>), without building a document for every ack.</summary>
    private static bool TryReadPosition(System.Buffers.ReadOnlySequence<byte> payload, out string conversation, out long seq, out DateTimeOffset stored)
    {
        (conversation, seq, stored) = ("", 0, default);
        var found = 0;
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (found < 3 && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("conv"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                        return false;
                    (conversation, found) = (reader.GetString() ?? "", found + 1);
                }
                else if (reader.ValueTextEquals("seq"u8) || reader.ValueTextEquals("ts"u8))
                {
                    var isSeq = reader.ValueTextEquals("seq"u8);
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number)
                        return false;
                    if (isSeq)
                        seq = reader.GetInt64();
                    else
                        stored = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64());
                    found++;
                }
                else if (!reader.TrySkip()) // the value of a property not needed here
                {
                    return false;
                }
            }
            return found == 3 && conversation.Length > 0;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
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
