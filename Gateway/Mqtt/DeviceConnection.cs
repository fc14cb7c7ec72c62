using System.Threading.RateLimiting;
using MQTTnet.Server;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>One authenticated MQTT connection of one device on this gateway.</summary>
public sealed class DeviceConnection(string user, string device, string connectionId, RateLimiter limiter)
{
    private int _inFlight;

    public string User { get; } = user;
    public string Device { get; } = device;
    public string ClientId => Ids.DeviceKey(User, Device);

    /// <summary>Fresh per connection, so that a late disconnect of a replaced connection is recognised.</summary>
    public string ConnectionId { get; } = connectionId;
    public RateLimiter Limiter { get; } = limiter;
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
