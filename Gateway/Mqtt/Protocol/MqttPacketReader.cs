using System.Buffers;
using System.IO.Pipelines;
using MQTTnet.Adapter;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Reads whole MQTT packets off one connection's input, each checked from its fixed header alone before any
/// of it is buffered: the first packet must be a CONNECT, a remaining length must be a valid varint, and no packet may
/// announce more than the configured maximum (a 256 MB announcement is refused at once, not waited for). A peer that
/// leaves mid-packet ends the connection; the partial packet is dropped.</summary>
/// <remarks>It does not read by itself: the caller awaits the input's <see cref="PipeReader.ReadAsync"/> and hands each
/// result to <see cref="Take"/>. An idle connection then waits in one suspended method, not in two.</remarks>
internal sealed class MqttPacketReader(PipeReader input, int maxPacketBytes)
{
    private const int ConnectType = 1;
    private bool _connectSeen;

    /// <summary>The next whole packet in <paramref name="result"/>, the input advanced past it; or null: nothing to take
    /// (more must arrive, or the result says the input ended or the read was cancelled). Either way the input is
    /// advanced, as each read requires before the next. Throws <see cref="InvalidDataException"/> on a malformed header,
    /// which ends the connection.</summary>
    public ReceivedMqttPacket? Take(in ReadResult result)
    {
        var buffer = result.Buffer;
        if (result.IsCanceled)
        {
            input.AdvanceTo(buffer.Start);
            return null;
        }
        if (TryTake(ref buffer, out var packet))
        {
            input.AdvanceTo(buffer.Start);
            return packet;
        }
        if (result.IsCompleted)
            input.AdvanceTo(buffer.End); // the peer left mid-packet: the part is dropped
        else
            input.AdvanceTo(buffer.Start, buffer.End);
        return null;
    }

    private bool TryTake(ref ReadOnlySequence<byte> buffer, out ReceivedMqttPacket packet)
    {
        packet = ReceivedMqttPacket.Empty;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryRead(out var header))
            return false;
        var type = header >> 4;
        if (!_connectSeen && type != ConnectType)
            throw Malformed("the first packet must be a CONNECT");
        if (type == 0)
            throw Malformed("packet type 0 is reserved");
        var remaining = 0;
        for (var i = 0; i < 4; i++)
        {
            if (!reader.TryRead(out var digit))
                return false;
            remaining |= (digit & 0x7F) << (7 * i);
            if ((digit & 0x80) != 0)
                continue;
            var total = 2 + i + remaining;
            if (total > maxPacketBytes)
                throw Malformed($"a packet of {total} bytes is over the limit of {maxPacketBytes}");
            if (reader.Remaining < remaining)
                return false;
            // A fresh array: the decoded packet (a publish's payload) refers to it after the input has moved on.
            var body = remaining == 0 ? [] : new byte[remaining];
            reader.TryCopyTo(body);
            reader.Advance(remaining);
            buffer = buffer.Slice(reader.Position);
            _connectSeen = true;
            packet = new ReceivedMqttPacket(header, new ArraySegment<byte>(body), total);
            return true;
        }
        throw Malformed("the remaining length is longer than four bytes");
    }

    private static InvalidDataException Malformed(string reason)
    {
        GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "malformed"));
        return new InvalidDataException(reason);
    }
}
