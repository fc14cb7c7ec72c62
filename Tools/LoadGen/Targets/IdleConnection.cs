using System.Net;
using System.Net.Sockets;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>One idle MQTT 5 connection held over a bare socket: CONNECT (clean start, the given credentials, a keep-alive
/// long enough that no ping falls in the measurement), SUBSCRIBE at QoS 1, then nothing but acknowledging what the
/// server sends. The server sees the same packets as from a full client; the tool spends a fraction of what a full
/// MQTTnet client costs per connect (its receive loop, keep-alive task and dispatcher), which on two shared cores is
/// what otherwise limits the connect rate measured (the idle row prints the tool's CPU per connect next to the
/// server's). Packets are encoded and decoded by MQTTnet's formatter, not by hand.</summary>
public sealed class IdleConnection : IAsyncDisposable
{
    private const ushort KeepAliveSeconds = 600;

    private readonly Socket _socket;
    private readonly MqttPacketFormatterAdapter _formatter = new(MqttProtocolVersion.V500, new MqttBufferWriter(256, 4096));
    private const int MaxPacket = 1 << 20;

    private byte[] _buffer = new byte[512];
    private readonly SemaphoreSlim _sending = new(1, 1);
    private int _filled;
    private Task _reading = Task.CompletedTask;

    private IdleConnection(Socket socket) => _socket = socket;

    /// <summary>Connects and subscribes within <see cref="MqttConnector.Timeout"/>; throws with the server's reason code
    /// when the CONNACK or SUBACK refuses.</summary>
    public static async Task<IdleConnection> OpenAsync(IPEndPoint server, IPAddress source, string clientId, string? user,
        string? password, string topicFilter)
    {
        using var timeout = new CancellationTokenSource(MqttConnector.Timeout);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new IdleConnection(socket);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(server, timeout.Token);
            await connection.SendAsync(new MqttConnectPacket
            {
                ClientId = clientId, CleanSession = true, KeepAlivePeriod = KeepAliveSeconds, Username = user,
                Password = password is null ? null : System.Text.Encoding.UTF8.GetBytes(password),
            });
            if (await connection.ReceiveAsync(timeout.Token) is not MqttConnAckPacket { ReasonCode: MqttConnectReasonCode.Success })
                throw new InvalidOperationException($"{clientId}: no successful CONNACK");
            await connection.SendAsync(new MqttSubscribePacket
            {
                PacketIdentifier = 1,
                TopicFilters = [new MqttTopicFilter { Topic = topicFilter, QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce }],
            });
            if (await connection.ReceiveAsync(timeout.Token) is not MqttSubAckPacket subAck)
                throw new InvalidOperationException($"{clientId}: no SUBACK");
            if (subAck.ReasonCodes.Single() != MqttSubscribeReasonCode.GrantedQoS1)
                throw new InvalidOperationException($"{clientId}: SUBACK {subAck.ReasonCodes.Single()} for {topicFilter}");
            connection._reading = connection.AcknowledgeWhatComesAsync();
            return connection;
        }
        catch (Exception e)
        {
            socket.Dispose();
            throw e as InvalidOperationException ?? new InvalidOperationException($"{clientId}: {e.Message}", e);
        }
    }

    /// <summary>Says DISCONNECT and closes the socket with a reset: a graceful close would leave the source port in
    /// TIME_WAIT for a minute, and a run started within that minute then pays for the kernel's search for free ports
    /// on the same source addresses (the tool's CPU per connect tripled, and the connect rate fell by a third).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync(new MqttDisconnectPacket { ReasonCode = MqttDisconnectReasonCode.NormalDisconnection });
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closing only: the server may have gone already.
        }
        _socket.Dispose();
        await _reading;
    }

    /// <summary>Until the socket closes: QoS 1 publishes (events the server may send) get their PUBACK, as a full client
    /// would send; anything else is read and dropped.</summary>
    private async Task AcknowledgeWhatComesAsync()
    {
        try
        {
            while (await ReceiveAsync(CancellationToken.None) is { } packet)
            {
                if (packet is MqttPublishPacket { QualityOfServiceLevel: MqttQualityOfServiceLevel.AtLeastOnce } publish)
                    await SendAsync(new MqttPubAckPacket { PacketIdentifier = publish.PacketIdentifier });
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or MqttProtocolViolationException)
        {
            // The tool closed the socket, or the server did.
        }
    }

    private async Task SendAsync(MqttPacket packet)
    {
        await _sending.WaitAsync();
        try
        {
            var bytes = _formatter.Encode(packet).Join();
            await _socket.SendAsync(bytes, SocketFlags.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>The next whole packet, or null once the server has closed the connection.</summary>
    private async Task<MqttPacket?> ReceiveAsync(CancellationToken ct)
    {
        while (true)
        {
            if (TryTakePacket(out var packet))
                return packet;
            if (_filled == _buffer.Length)
            {
                if (_buffer.Length >= MaxPacket)
                    throw new MqttProtocolViolationException($"a packet over {MaxPacket} bytes");
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var n = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, ct);
            if (n == 0)
                return null;
            _filled += n;
        }
    }

    /// <summary>Cuts one packet off the front of the buffer once its fixed header and body are all there.</summary>
    private bool TryTakePacket(out MqttPacket? packet)
    {
        packet = null;
        if (_filled < 2)
            return false;
        // The remaining length: up to four bytes of seven bits each, low bits first (MQTT 5, 1.5.5).
        int length = 0, shift = 0, i = 1;
        while (true)
        {
            if (i == _filled)
                return false;
            var b = _buffer[i++];
            length |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                break;
            shift += 7;
            if (shift > 21)
                throw new MqttProtocolViolationException("malformed remaining length");
        }
        if (_filled < i + length)
            return false;
        var body = _buffer[i..(i + length)];
        packet = _formatter.Decode(new ReceivedMqttPacket(_buffer[0], body, i + length));
        _buffer.AsSpan(i + length, _filled - i - length).CopyTo(_buffer);
        _filled -= i + length;
        return true;
    }
}
