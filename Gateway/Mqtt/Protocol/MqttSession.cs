using Microsoft.AspNetCore.Connections;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>One client's MQTT connection after its CONNECT was accepted: what it speaks, when it was last heard from,
/// what it is sent (<see cref="MqttOutbox"/>), and how it ends. The gateway's own protocol layer (see
/// <see cref="MqttConnectionHandler"/>); kept small, as there is one per connected device.</summary>
public sealed class MqttSession
{
    private readonly ConnectionContext _connection;
    private readonly CancellationTokenSource _reading = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ending;

    /// <param name="receiveMaximum">The client's MQTT 5 Receive Maximum; 0 (not given, or MQTT 3.1.1): 65 535.</param>
    /// <param name="maximumPacketSize">The client's MQTT 5 Maximum Packet Size; 0 (not given, or MQTT 3.1.1): no limit.</param>
    internal MqttSession(ConnectionContext connection, string clientId, MqttProtocolVersion version, ushort keepAliveSeconds,
        string transport, int outboxLimit, ushort receiveMaximum, uint maximumPacketSize)
    {
        _connection = connection;
        (ClientId, Version, KeepAliveSeconds, Transport) = (clientId, version, keepAliveSeconds, transport);
        Outbox = new MqttOutbox(connection.Transport.Output, version, outboxLimit, () => Abort("could not write to the connection"),
            receiveMaximum == 0 ? ushort.MaxValue : receiveMaximum, maximumPacketSize == 0 ? uint.MaxValue : maximumPacketSize);
        LastHeard = Environment.TickCount64;
    }

    public string ClientId { get; }
    public MqttProtocolVersion Version { get; }
    public bool IsMqtt5 => Version == MqttProtocolVersion.V500;
    public string Transport { get; }

    /// <summary>The keep-alive the client asked for; 0: none.</summary>
    public ushort KeepAliveSeconds { get; }

    /// <summary>When a packet last arrived (<see cref="Environment.TickCount64"/>).</summary>
    public long LastHeard { get; private set; }

    internal MqttOutbox Outbox { get; }

    /// <summary>The device connection it was bound as; null until then, or if binding failed.</summary>
    public DeviceConnection? Connection { get; internal set; }

    /// <summary>The client ended it with a DISCONNECT.</summary>
    public bool SaidGoodbye { get; internal set; }

    /// <summary>How it ended, as metrics tag it: <c>Clean</c> (the client said goodbye), <c>Takeover</c>, or <c>NotClean</c>.</summary>
    public string EndKind => SaidGoodbye ? "Clean" : _endedBecause == MqttDisconnectReasonCode.SessionTakenOver ? "Takeover" : "NotClean";

    /// <summary>Cancelled once the server ends the connection: its read loop and the publishes it waits on stop.</summary>
    public CancellationToken Reading => _reading.Token;

    // Why the server ended it, if it did.
    private MqttDisconnectReasonCode? _endedBecause;

    /// <summary>Ends once the connection is closed and its device is told.</summary>
    public Task Ended => _ended.Task;

    /// <summary>A packet arrived; <paramref name="handling"/>: it is being handled (the next is read once it is).</summary>
    internal void Heard(bool handling)
    {
        LastHeard = Environment.TickCount64;
        _handling = handling;
    }

    // While a packet is being handled the client's next packets wait unread: its PINGREQs too.
    private volatile bool _handling;

    /// <summary>MQTT's rule: a client silent for one and a half keep-alive periods is gone.</summary>
    internal bool IsSilentSince(long now) => KeepAliveSeconds > 0 && !_handling && now - LastHeard > KeepAliveSeconds * 1500L;

    /// <summary>Queues a publish to the client; false when the connection is closing or too far behind.</summary>
    public bool TryPublish(string topic, byte[] payload, MqttQualityOfServiceLevel qos, byte[]? correlationData = null,
        MqttOutbox.Sent sent = default)
    {
        var publish = new MqttPublishPacket
        {
            Topic = topic,
            PayloadSegment = payload,
            QualityOfServiceLevel = qos,
            CorrelationData = correlationData,
        };
        if (IsMqtt5)
        {
            publish.ContentType = "application/json";
            publish.PayloadFormatIndicator = MqttPayloadFormatIndicator.CharacterData;
        }
        return Outbox.TryPublish(publish, sent);
    }

    /// <summary>Tells the client why it must go (MQTT 5: a DISCONNECT with <paramref name="reason"/>; MQTT 3.1.1 has
    /// none), after what was queued before, then closes the connection. A client that does not take those last bytes
    /// within <see cref="LingeringClose.Linger"/> is cut off. Ends when the connection has ended.</summary>
    public Task DisconnectAsync(MqttDisconnectReasonCode reason, string? reasonString = null, string? serverReference = null)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
            return Ended;
        _endedBecause = reason;
        var goodbye = IsMqtt5
            ? new MqttDisconnectPacket { ReasonCode = reason, ReasonString = reasonString, ServerReference = serverReference }
            : null;
        _ = CloseAfterAsync(Outbox.CloseWithAsync(goodbye));
        return Ended;
    }

    private async Task CloseAfterAsync(Task written)
    {
        await Task.WhenAny(written, Task.Delay(LingeringClose.Linger));
        StopReading();
        if (!written.IsCompleted)
            Abort("the client did not take the last bytes in time");
    }

    /// <summary>Stops the read loop, which then closes the connection.</summary>
    internal void StopReading()
    {
        _reading.Cancel();
        try
        {
            _connection.Transport.Input.CancelPendingRead();
        }
        catch (ObjectDisposedException)
        {
            // over already
        }
    }

    /// <summary>Cuts the connection at once (keep-alive expired, a client that does not read).</summary>
    internal void Abort(string why)
    {
        try
        {
            _connection.Abort(new ConnectionAbortedException(why));
        }
        catch (ObjectDisposedException)
        {
            // over already
        }
    }

    // The token source is not disposed: it has no timer, and lanes may still ask for its token after the end.
    internal void MarkEnded() => _ended.TrySetResult();
}
