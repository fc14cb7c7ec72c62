using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>What a PUBACK says: the reason code, why (on refusal), and the seq and time of a stored message.</summary>
public sealed record AckReply(MqttPubAckReasonCode Code, string? Reason = null, List<MqttUserProperty>? Properties = null);

/// <summary>A connection's PUBACKs that wait for the outcome of what they acknowledge. MQTTnet reads a publish, asks us
/// about it, and queues its PUBACK at once; for a message we answer before it is stored, and the PUBACK is held here
/// until it is (<see cref="PubAckInterceptor"/> fills it in as it goes out). MQTTnet sends a connection's PUBACKs one
/// after the other, so they keep the order of the publishes, as MQTT requires. At most <see cref="MaxHeld"/> wait:
/// beyond that the connection's next publish is not read until one has gone out.</summary>
public sealed class HeldAcks
{
    /// <summary>How many of a connection's messages may be on their way to storage at once.</summary>
    public const int MaxHeld = 64;

    private readonly Dictionary<ushort, Task<AckReply>> _held = [];
    private readonly SemaphoreSlim _room = new(MaxHeld);

    /// <summary>Waits until fewer than <see cref="MaxHeld"/> PUBACKs are held.</summary>
    public Task WaitForRoomAsync(CancellationToken ct) => _room.WaitAsync(ct);

    /// <summary>Holds the PUBACK of <paramref name="packetId"/> until <paramref name="reply"/> is known; call after
    /// <see cref="WaitForRoomAsync"/>.</summary>
    public void Hold(ushort packetId, Task<AckReply> reply)
    {
        bool replaced;
        lock (_held)
        {
            replaced = _held.ContainsKey(packetId); // a client that reused an identifier before its PUBACK
            _held[packetId] = reply;
        }
        if (replaced)
            _room.Release();
    }

    /// <summary>The reply the PUBACK of <paramref name="packetId"/> waits for, if it is held; it then leaves.</summary>
    public Task<AckReply>? Take(ushort packetId)
    {
        Task<AckReply>? reply;
        lock (_held)
        {
            if (!_held.Remove(packetId, out reply))
                return null;
        }
        _room.Release();
        return reply;
    }
}
