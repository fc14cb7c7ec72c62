using System.Threading.RateLimiting;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>One authenticated MQTT connection of one device on this gateway.</summary>
public sealed class DeviceConnection(string user, string device, string connectionId, RateLimiter limiter, bool isMqtt5)
{
    private int _inFlight;

    public string User { get; } = user;
    public string Device { get; } = device;
    public string ClientId => Ids.DeviceKey(User, Device);

    /// <summary>Fresh per connection, so that a late disconnect of a replaced connection is recognised.</summary>
    public string ConnectionId { get; } = connectionId;
    public RateLimiter Limiter { get; } = limiter;

    /// <summary>MQTT 5 PUBACKs carry a sent message's seq; MQTT 3.1.1 clients learn it from a <c>sent</c> event.</summary>
    public bool IsMqtt5 { get; } = isMqtt5;

    public AckBatch Acks { get; } = new();

    /// <summary>The protocol version, as metrics tag it.</summary>
    public string Version => IsMqtt5 ? "5.0" : "3.1.1";
    public MqttSessionStatus? Session { get; set; }

    /// <summary>Deliveries handed to the client and not yet acknowledged.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public int Sent() => Interlocked.Increment(ref _inFlight);

    public void Acknowledged()
    {
        if (Interlocked.Decrement(ref _inFlight) < 0)
            Interlocked.Exchange(ref _inFlight, 0);
    }
}
