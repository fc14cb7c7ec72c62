using System.Buffers;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Formatter.V3;
using MQTTnet.Formatter.V5;
using MQTTnet.Packets;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>MQTTnet's packet formatters, one of each version per thread rather than per connection: a formatter keeps
/// a buffer, and encoding and decoding never await, so a thread's formatter is free again as soon as it returns.</summary>
internal static class MqttPacketCodec
{
    [ThreadStatic] private static IMqttPacketFormatter? _v310;
    [ThreadStatic] private static IMqttPacketFormatter? _v311;
    [ThreadStatic] private static IMqttPacketFormatter? _v500;
    [ThreadStatic] private static MqttPacketFormatterAdapter? _detector;

    /// <summary>The protocol version a CONNECT asks for, and the CONNECT itself. Throws
    /// <see cref="MqttProtocolViolationException"/> on a version MQTTnet does not speak or a malformed packet.</summary>
    public static (MqttProtocolVersion Version, MqttConnectPacket Connect) DecodeConnect(ReceivedMqttPacket packet)
    {
        var detector = _detector ??= new MqttPacketFormatterAdapter(new MqttBufferWriter(64, 4096));
        try
        {
            detector.DetectProtocolVersion(packet);
        }
        catch (Exception ex) when (ex is not MqttProtocolViolationException)
        {
            throw new MqttProtocolViolationException($"not a CONNECT MQTTnet can read: {ex.Message}");
        }
        return (detector.ProtocolVersion, (MqttConnectPacket)Decode(packet, detector.ProtocolVersion));
    }

    /// <summary>Decodes one packet; throws <see cref="MqttProtocolViolationException"/> on a malformed one, whatever
    /// the formatter stumbled on (a length past the end, a bad UTF-8 string, an unknown property).</summary>
    public static MqttPacket Decode(ReceivedMqttPacket packet, MqttProtocolVersion version)
    {
        try
        {
            return Formatter(version).Decode(packet);
        }
        catch (Exception ex) when (ex is not MqttProtocolViolationException)
        {
            throw new MqttProtocolViolationException($"a malformed packet: {ex.Message}");
        }
    }

    /// <summary>Writes <paramref name="packet"/> to <paramref name="output"/> (not flushed), unless it is larger than
    /// <paramref name="maxBytes"/>: then nothing is written, and the answer is false.</summary>
    public static bool TryWrite(IBufferWriter<byte> output, MqttPacket packet, MqttProtocolVersion version, uint maxBytes = uint.MaxValue)
    {
        var encoded = Formatter(version).Encode(packet);
        if ((uint)encoded.Length > maxBytes)
            return false;
        output.Write(encoded.Packet);
        foreach (var segment in encoded.Payload)
            output.Write(segment.Span);
        return true;
    }

    /// <summary>The packet without its reason string and user properties, for a client whose Maximum Packet Size has
    /// no room for them (MQTT 5 leaves those out rather than the packet); null for a packet that has none to drop.</summary>
    public static MqttPacket? Bare(MqttPacket packet) => packet switch
    {
        MqttPubAckPacket a => new MqttPubAckPacket { PacketIdentifier = a.PacketIdentifier, ReasonCode = a.ReasonCode },
        MqttPubRecPacket r => new MqttPubRecPacket { PacketIdentifier = r.PacketIdentifier, ReasonCode = r.ReasonCode },
        MqttPubCompPacket c => new MqttPubCompPacket { PacketIdentifier = c.PacketIdentifier, ReasonCode = c.ReasonCode },
        MqttSubAckPacket s => new MqttSubAckPacket { PacketIdentifier = s.PacketIdentifier, ReasonCodes = s.ReasonCodes },
        MqttUnsubAckPacket u => new MqttUnsubAckPacket { PacketIdentifier = u.PacketIdentifier, ReasonCodes = u.ReasonCodes },
        MqttDisconnectPacket d => new MqttDisconnectPacket { ReasonCode = d.ReasonCode },
        _ => null,
    };

    private static IMqttPacketFormatter Formatter(MqttProtocolVersion version) => version switch
    {
        MqttProtocolVersion.V500 => _v500 ??= new MqttV5PacketFormatter(NewBuffer()),
        MqttProtocolVersion.V311 => _v311 ??= new MqttV3PacketFormatter(NewBuffer(), MqttProtocolVersion.V311),
        MqttProtocolVersion.V310 => _v310 ??= new MqttV3PacketFormatter(NewBuffer(), MqttProtocolVersion.V310),
        _ => throw new InvalidDataException($"MQTT protocol version {version} is not supported"),
    };

    // Grows for a large packet header and is cut back to the maximum after it.
    private static MqttBufferWriter NewBuffer() => new(4096, 65536);
}
