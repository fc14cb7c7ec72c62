using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>What a PUBACK says: the reason code, why (on refusal), and the seq and time of a stored message.</summary>
public sealed record AckReply(MqttPubAckReasonCode Code, string? Reason = null, List<MqttUserProperty>? Properties = null);

/// <summary>A connection's messages on their way to storage, whose PUBACKs wait in its outbox (<see cref="MqttOutbox"/>)
/// for their outcome. At most <see cref="MaxHeld"/> are under way: beyond that the connection's next publish is not
/// read until one of them is stored (or refused).</summary>
public sealed class HeldAcks
{
    /// <summary>How many of a connection's messages may be on their way to storage at once.</summary>
    public const int MaxHeld = 64;

    private readonly SemaphoreSlim _room = new(MaxHeld);

    /// <summary>Waits until fewer than <see cref="MaxHeld"/> messages are under way.</summary>
    public Task WaitForRoomAsync(CancellationToken ct) => _room.WaitAsync(ct);

    /// <summary>Counts <paramref name="reply"/> as under way until it is known; call after <see cref="WaitForRoomAsync"/>.</summary>
    public async Task<AckReply> HoldAsync(Task<AckReply> reply)
    {
        try
        {
            return await reply;
        }
        finally
        {
            _room.Release();
        }
    }
}
