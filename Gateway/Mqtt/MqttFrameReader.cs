using System.Buffers;
using System.IO.Pipelines;
using MQTTnet.Exceptions;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The input of one MQTT connection as MQTTnet reads it, checked packet by packet from the fixed headers
/// alone, before MQTTnet buffers anything: the first packet must be a CONNECT, a remaining length must be a valid
/// varint, and no packet may announce more than the configured maximum (a 256 MB announcement is refused at once,
/// not buffered). It also ends connections whose peer left mid-packet: MQTTnet's Kestrel adapter reads a completed
/// pipe that holds only part of a packet again and again, pinning a core forever. And it can be held: hand nothing on
/// while the server is about to disconnect the client (<see cref="GuardedConnections"/>).</summary>
internal sealed class MqttFrameReader(PipeReader inner, int maxPacketBytes, Action connectReceived) : PipeReader
{
    private ReadOnlySequence<byte> _buffer;
    private long _bufferOffset; // stream offset of _buffer's first byte
    private long _packetStart;  // stream offset of the fixed header of the packet not yet whole
    private long _packetEnd = -1; // its end once that header is known
    private bool _connectSeen;
    private long _heldUntil; // Environment.TickCount64 until which nothing read is handed on; 0: not held

    /// <summary>Hands nothing more to MQTTnet for <paramref name="limit"/>, or until its read is cancelled
    /// (<see cref="GuardedConnections"/>).</summary>
    public void Hold(TimeSpan limit) => Volatile.Write(ref _heldUntil, Environment.TickCount64 + (long)limit.TotalMilliseconds);

    // Milliseconds the hold has left; no clock read on the path of every packet while nothing is held.
    private long HoldLeft() => Volatile.Read(ref _heldUntil) is var until and not 0 ? until - Environment.TickCount64 : 0;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken);
        // Checked once the read returns, so that a read already waiting when the hold began hands nothing on either.
        if (HoldLeft() is var wait and > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                inner.AdvanceTo(result.Buffer.Start); // the read is over; what was read is dropped with the connection
                throw;
            }
        }
        return Inspect(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (HoldLeft() > 0 || !inner.TryRead(out result))
        {
            result = default;
            return false;
        }
        result = Inspect(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _bufferOffset += _buffer.Slice(_buffer.Start, consumed).Length;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    /// <summary>Leaves the transport's input open: its owner drains it before the socket closes (<see cref="LingeringClose"/>).</summary>
    public override void Complete(Exception? exception = null)
    {
    }

    private ReadResult Inspect(ReadResult result)
    {
        _buffer = result.Buffer;
        var end = _bufferOffset + _buffer.Length;
        while (true)
        {
            if (_packetEnd < 0)
            {
                if (!TryReadLength(_buffer.Slice(_packetStart - _bufferOffset), out var length))
                    break;
                _packetEnd = _packetStart + length;
            }
            if (_packetEnd > end)
                break;
            if (!_connectSeen)
            {
                _connectSeen = true;
                connectReceived();
            }
            (_packetStart, _packetEnd) = (_packetEnd, -1);
        }
        if (!result.IsCompleted || _packetStart == end)
            return result;
        // The peer is gone and the rest of this packet can never arrive: hand MQTTnet the whole packets only. Its
        // next read then sees an empty completed pipe, which it takes for the end of the connection.
        return new ReadResult(_buffer.Slice(0, _packetStart - _bufferOffset), result.IsCanceled, isCompleted: true);
    }

    private static MqttProtocolViolationException Malformed(string reason)
    {
        GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "malformed"));
        return new MqttProtocolViolationException(reason);
    }

    /// <summary>Reads a fixed header: false while it is incomplete, the whole packet's length once it is known.</summary>
    private bool TryReadLength(ReadOnlySequence<byte> packet, out long length)
    {
        length = 0;
        var reader = new SequenceReader<byte>(packet);
        if (!reader.TryRead(out var header))
            return false;
        var type = header >> 4;
        if (!_connectSeen && type != 1)
            throw Malformed("the first packet must be a CONNECT");
        if (type == 0)
            throw Malformed("packet type 0 is reserved");
        long remaining = 0;
        for (var i = 0; i < 4; i++)
        {
            if (!reader.TryRead(out var digit))
                return false;
            remaining |= (long)(digit & 0x7F) << (7 * i);
            if ((digit & 0x80) == 0)
            {
                length = 2 + i + remaining;
                if (length > maxPacketBytes)
                    throw Malformed($"a packet of {length} bytes is over the limit of {maxPacketBytes}");
                return true;
            }
        }
        throw Malformed("the remaining length is longer than four bytes");
    }
}
