using System.Diagnostics;
using System.Threading.RateLimiting;
using ImOrleans.Gateway.Delivery;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>One authenticated MQTT connection of one device on this gateway.</summary>
public sealed class DeviceConnection
{
    private readonly TokenBucketRateLimiterOptions _rate;
    private readonly Func<DeviceConnection, MessageRecord, bool> _publish;
    private TokenBucketRateLimiter? _limiter;

    /// <param name="rate">Its publish rate limit, shared by all connections (a limiter copies it).</param>
    /// <param name="publish">Hands one of its messages to its client; shared by all connections.</param>
    public DeviceConnection(string user, string device, string connectionId, TokenBucketRateLimiterOptions rate, MqttSession session,
        IDeviceGrain grain, int window, Func<DeviceConnection, MessageRecord, bool> publish, ILogger log)
    {
        (User, Device, ConnectionId, Session, _rate, _publish) = (user, device, connectionId, session, rate, publish);
        (ClientId, MessagesTopic) = (session.ClientId, Topics.Messages(user));
        Delivery = new ConnectionDelivery(user, device, grain, window, Publish, log, awaitsBind: true);
    }

    public string User { get; }
    public string Device { get; }
    /// <summary><c>{user}/{device}</c>, its MQTT client id.</summary>
    public string ClientId { get; }

    /// <summary>The topic its messages are published on; made once, as every delivery and every ack names it.</summary>
    public string MessagesTopic { get; }

    /// <summary>Fresh per connection, so that a late disconnect of a replaced connection is recognised.</summary>
    public string ConnectionId { get; }

    /// <summary>Its publish rate limit; made by its first publish (an idle connection has none). Only its read loop,
    /// which handles one packet at a time, asks for it.</summary>
    public ReplenishingRateLimiter Limiter => _limiter ??= new TokenBucketRateLimiter(_rate);

    /// <summary>Once it has ended.</summary>
    public void DisposeLimiter() => _limiter?.Dispose();

    private bool Publish(MessageRecord message) => _publish(this, message);

    /// <summary>The MQTT session it speaks through.</summary>
    public MqttSession Session { get; }

    /// <summary>MQTT 5 PUBACKs carry a sent message's seq; MQTT 3.1.1 clients learn it from a <c>sent</c> event.</summary>
    public bool IsMqtt5 => Session.IsMqtt5;

    /// <summary>Messages on their way to this connection, in order.</summary>
    public ConnectionDelivery Delivery { get; }

    public AckBatch Acks { get; } = new();

    /// <summary>When its device grain last bound it (<see cref="Environment.TickCount64"/>): a lease that fresh needs no
    /// renewal yet (<see cref="ConnectionLeaseRenewer"/>).</summary>
    public long BoundAt { get; set; }

    /// <summary>Its PUBACKs waiting for messages to be stored; made by its first such message (an idle connection has none).</summary>
    public HeldAcks? HeldAcks { get; set; }

    /// <summary>Its messages on their way into conversations; made with <see cref="HeldAcks"/>.</summary>
    public SendLanes? Lanes { get; set; }

    /// <summary>The protocol version, as metrics tag it.</summary>
    public string Version => IsMqtt5 ? "5.0" : "3.1.1";

    /// <summary>The listener it came through: <c>tcp</c>, <c>tls</c> or <c>websocket</c>.</summary>
    public string Transport => Session.Transport;

    /// <summary>Its tags on the connection metrics.</summary>
    public TagList MetricTags => new() { { "version", Version }, { "transport", Transport } };
}
