using System.IO.Pipelines;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>What one connection sends, in the order it was queued: deliveries, events, replies, and the answers to the
/// client's packets. An answer may wait for its outcome (the PUBACK of a message being stored): it keeps its place, and
/// what was queued after it goes out after it, as MQTT requires of PUBACKs. One loop writes, only while there is
/// something to write, and flushes once the queue is empty; an idle connection costs no task and no timer.</summary>
/// <param name="receiveMaximum">How many of our QoS 1 publishes the client takes unacknowledged at once (its MQTT 5
/// Receive Maximum): the writer waits for an acknowledgement before it writes one more, and what is queued behind
/// waits with it.</param>
/// <param name="broken">Called when writing failed: the connection is of no use any more.</param>
/// <param name="maximumPacketSize">The largest packet the client takes (its MQTT 5 Maximum Packet Size). An answer too
/// large goes without its reason string and user properties; a publish too large is not written at all (MQTT's rule is
/// to discard it and carry on as if it had been sent; see <see cref="Skipped"/>).</param>
public sealed class MqttOutbox(PipeWriter output, MqttProtocolVersion version, int limit, Action broken, int receiveMaximum = ushort.MaxValue,
    uint maximumPacketSize = uint.MaxValue)
{
    private readonly Queue<Outgoing> _queue = new();

    // Our QoS 1 publishes that the client has not acknowledged yet, by packet identifier, and whether each was written;
    // made by the first one.
    private Dictionary<ushort, (Sent Sent, bool Written)>? _unacknowledged;
    private int _written; // of those, how many were written
    private ushort _lastWrittenId; // the one written last

    // Publishes discarded as too large for the client, by the written publish they count as acknowledged after: the
    // client acknowledges in order, so a cursor moved past them earlier could skip a message it never acknowledged.
    private Dictionary<ushort, List<Sent>>? _skippedAfter;
    private TaskCompletionSource? _room; // the writer waits on it while the client has receiveMaximum of them
    private ushort _lastId;
    private bool _running;
    private bool _closed;
    private bool _abandoned; // the connection is over: nothing may touch its output any more
    private TaskCompletionSource? _lastWritten;
    private TaskCompletionSource? _stopped; // made by AbandonAsync while the loop runs; ended when it stops

    // Answers beyond this many queued mean a client that sends but does not read: it is cut off, not buffered for.
    private int MaxQueued => 2 * limit;

    // Written but not flushed beyond this, the loop flushes before it writes more.
    private const int FlushThreshold = 64 * 1024;

    /// <summary>What became of a QoS 1 publish the client acknowledged: the message it carried, if it was one.</summary>
    public readonly record struct Sent(string? Conversation, long Seq, long StoredMs);

    private readonly record struct Outgoing(MqttPacket? Packet, Task<MqttPacket>? Pending);

    /// <summary>Told of each QoS 1 publish discarded as larger than the client's Maximum Packet Size, once the client
    /// has acknowledged every publish written before it: as far as this connection goes, that publish is complete.</summary>
    public Action<Sent>? Skipped { get; set; }

    /// <summary>The connection is ending: nothing more is taken.</summary>
    public bool IsClosed
    {
        get { lock (_queue) return _closed; }
    }

    /// <summary>Queues a publish; false when the connection is closing, or has <c>limit</c> publishes queued and
    /// unacknowledged: it is too far behind.</summary>
    public bool TryPublish(MqttPublishPacket publish, Sent sent)
    {
        lock (_queue)
        {
            if (_closed || _queue.Count + (_unacknowledged?.Count ?? 0) >= limit)
                return false;
            if (publish.QualityOfServiceLevel != MqttQualityOfServiceLevel.AtMostOnce)
            {
                _unacknowledged ??= [];
                publish.PacketIdentifier = NextId();
                _unacknowledged[publish.PacketIdentifier] = (sent, false);
            }
            if (!Enqueue(new Outgoing(publish, null)))
                return true;
        }
        _ = RunAsync();
        return true;
    }

    /// <summary>Queues a packet that answers the client (CONNACK, SUBACK, PINGRESP, …); dropped once closing.</summary>
    public void Send(MqttPacket packet) => Queue(new Outgoing(packet, null));

    /// <summary>Queues a packet that is known later (a PUBACK waiting for its message to be stored); it keeps its place.
    /// <paramref name="packet"/> must not fail.</summary>
    public void SendLater(Task<MqttPacket> packet) => Queue(new Outgoing(null, packet));

    /// <summary>The client acknowledged our publish <paramref name="packetId"/>: what it carried, or null if unknown.</summary>
    public Sent? Acknowledged(ushort packetId)
    {
        List<Sent>? skipped = null;
        Sent sent;
        lock (_queue)
        {
            if (_unacknowledged is not { } map || !map.Remove(packetId, out var entry))
                return null;
            if (entry.Written)
            {
                _written--;
                _room?.TrySetResult();
                _room = null;
            }
            _skippedAfter?.Remove(packetId, out skipped);
            if (_written == 0 && _skippedAfter is { Count: > 0 } rest)
            {
                // Only a client that acknowledges out of order (MQTT requires order) leaves any: nothing before them
                // awaits an acknowledgement any more.
                skipped = [.. skipped ?? [], .. rest.Values.SelectMany(s => s)];
                rest.Clear();
            }
            sent = entry.Sent;
        }
        if (skipped is not null)
            foreach (var s in skipped)
                Skipped?.Invoke(s);
        return sent;
    }

    /// <summary>Queues <paramref name="last"/> (or nothing) after everything queued so far and takes nothing more; the task
    /// ends once it was written, or could not be.</summary>
    public Task CloseWithAsync(MqttPacket? last)
    {
        Task written;
        lock (_queue)
        {
            if (_lastWritten is not null)
                return _lastWritten.Task;
            _lastWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            written = _lastWritten.Task;
            if (_closed)
            {
                _lastWritten.TrySetResult(); // abandoned already
                return written;
            }
            if (last is not null)
                _queue.Enqueue(new Outgoing(last, null));
            _closed = true;
            if (_running)
                return written;
            _running = true;
        }
        _ = RunAsync();
        return written;
    }

    /// <summary>The connection is over: nothing more is queued or written, and a write waiting on a client that does not
    /// read gives up. Once the task ends the writing loop has stopped, and the output may be completed. (It may be waiting
    /// for a held PUBACK's outcome; it writes nothing after this call either way.)</summary>
    public Task AbandonAsync()
    {
        Task stopped;
        lock (_queue)
        {
            _closed = _abandoned = true;
            _queue.Clear();
            _lastWritten?.TrySetResult();
            _room?.TrySetResult();
            stopped = _running ? (_stopped ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task : Task.CompletedTask;
        }
        output.CancelPendingFlush();
        return stopped;
    }

    private void Queue(Outgoing item)
    {
        bool overflow;
        lock (_queue)
        {
            if (_closed)
                return;
            overflow = _queue.Count >= MaxQueued;
            if (overflow)
            {
                _closed = true;
                _queue.Clear();
            }
            else if (!Enqueue(item))
            {
                return;
            }
        }
        if (overflow)
            broken();
        else
            _ = RunAsync();
    }

    // Queues the item; true when the caller must start the writing loop (outside the lock).
    private bool Enqueue(Outgoing item)
    {
        _queue.Enqueue(item);
        if (_running)
            return false;
        _running = true;
        return true;
    }

    // Tells of a skipped publish; not inline: the writer may run on a thread that holds the lock of what queued it. (A
    // method of its own: a lambda in the loop would make the loop allocate its closure for every packet.)
    private void Complete(Sent skipped)
    {
        if (Skipped is { } skip)
            ThreadPool.QueueUserWorkItem(static state => state.Skip(state.Sent), (Skip: skip, Sent: skipped), preferLocal: false);
    }

    // Writes the packet, or discards it when it is larger than the client takes. Returns a discarded publish that is
    // complete at once (nothing written before it awaits its acknowledgement). Called under the lock.
    private Sent? Write(MqttPacket packet)
    {
        var id = packet is MqttPublishPacket { PacketIdentifier: > 0 } publish ? publish.PacketIdentifier : (ushort)0;
        if (MqttPacketCodec.TryWrite(output, packet, version, maximumPacketSize)
            || (MqttPacketCodec.Bare(packet) is { } bare && MqttPacketCodec.TryWrite(output, bare, version, maximumPacketSize)))
        {
            if (id > 0 && _unacknowledged!.TryGetValue(id, out var entry))
            {
                _unacknowledged[id] = entry with { Written = true };
                _written++;
                _lastWrittenId = id;
            }
            return null;
        }
        GatewayMetrics.TooLarge.Add(1);
        if (id == 0 || !_unacknowledged!.Remove(id, out var skipped))
            return null;
        if (_written == 0)
            return skipped.Sent;
        SkippedAfter(_lastWrittenId).Add(skipped.Sent);
        return null;
    }

    private List<Sent> SkippedAfter(ushort packetId)
    {
        _skippedAfter ??= [];
        if (!_skippedAfter.TryGetValue(packetId, out var skipped))
            _skippedAfter[packetId] = skipped = [];
        return skipped;
    }

    private ushort NextId()
    {
        do
        {
            _lastId = _lastId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastId + 1);
        } while (_unacknowledged!.ContainsKey(_lastId));
        return _lastId;
    }

    // Runs on the thread that queued the first packet until something must be waited for: the packet is in the
    // connection's pipe without a hop through the thread pool.
    private async Task RunAsync()
    {
        try
        {
            while (true)
            {
                Outgoing item;
                bool any;
                lock (_queue)
                    any = _queue.TryDequeue(out item);
                if (!any)
                {
                    if (!await FlushAsync())
                        break;
                    lock (_queue)
                    {
                        if (_queue.Count > 0)
                            continue;
                        _running = false;
                        _stopped?.TrySetResult();
                        if (_closed)
                            _lastWritten?.TrySetResult();
                        return;
                    }
                }
                var packet = item.Packet;
                if (packet is null)
                {
                    if (!item.Pending!.IsCompleted && !await FlushAsync())
                        break;
                    packet = await item.Pending;
                }
                if (!await RoomForAsync(packet))
                    break;
                Sent? skipped;
                lock (_queue)
                {
                    if (_abandoned)
                        break;
                    skipped = Write(packet);
                }
                if (skipped is { } done)
                    Complete(done);
                if (output.CanGetUnflushedBytes && output.UnflushedBytes > FlushThreshold && !await FlushAsync())
                    break;
            }
        }
        catch (Exception)
        {
            // The connection is gone (its output completed or aborted), or a packet could not be encoded: a connection
            // that cannot be written to must not look alive.
            broken();
        }
        lock (_queue)
        {
            _closed = true;
            _queue.Clear();
            _running = false;
            _stopped?.TrySetResult();
            _lastWritten?.TrySetResult();
        }
    }

    // Waits until the client may take one more unacknowledged publish, if packet is one; false once abandoned.
    private async ValueTask<bool> RoomForAsync(MqttPacket packet)
    {
        if (packet is not MqttPublishPacket { QualityOfServiceLevel: not MqttQualityOfServiceLevel.AtMostOnce })
            return true;
        while (true)
        {
            Task room;
            lock (_queue)
            {
                if (_abandoned)
                    return false;
                if (_written < receiveMaximum)
                    return true;
                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            if (!await FlushAsync())
                return false;
            await room;
        }
    }

    // False once the connection cannot take more: its reader is done, or the connection was abandoned.
    private async ValueTask<bool> FlushAsync()
    {
        lock (_queue)
        {
            if (_abandoned)
                return false;
        }
        var result = await output.FlushAsync();
        return !result.IsCompleted && !result.IsCanceled;
    }
}
