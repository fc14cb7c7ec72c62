using System.Net.Sockets;
using System.Net.WebSockets;

namespace ImOrleans.Tests.Infrastructure;

public enum MqttTransport { Tcp, WebSocket }

/// <summary>A bare connection to a server's MQTT listener (TCP, or WebSocket at <c>/mqtt</c>) that sends raw bytes
/// and watches whether the server hangs up.</summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly ClientWebSocket? _webSocket;

    private RawConnection(Socket? socket, ClientWebSocket? webSocket) => (_socket, _webSocket) = (socket, webSocket);

    public static async Task<RawConnection> OpenAsync(SiloProcess server, MqttTransport transport)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        if (transport == MqttTransport.Tcp)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", server.MqttPort, timeout.Token);
            return new RawConnection(socket, null);
        }
        var ws = new ClientWebSocket();
        ws.Options.AddSubProtocol("mqtt");
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{server.HttpPort}/mqtt"), timeout.Token);
        return new RawConnection(null, ws);
    }

    public async Task SendAsync(byte[] bytes)
    {
        if (_socket is not null)
            await _socket.SendAsync(bytes, SocketFlags.None);
        else
            await _webSocket!.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Reads until the server sends something, or returns null once it has closed the connection.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[4096];
        try
        {
            if (_socket is not null)
            {
                var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                return n == 0 ? null : buffer[..n];
            }
            var r = await _webSocket!.ReceiveAsync(buffer, cts.Token);
            return r.MessageType == WebSocketMessageType.Close ? null : buffer[..r.Count];
        }
        catch (Exception e) when (e is SocketException or WebSocketException)
        {
            return null; // reset by the server
        }
    }

    /// <summary>Whether the server closes the connection within <paramref name="timeout"/>, discarding what it sends.</summary>
    public async Task<bool> ClosedByServerWithinAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await ReceiveAsync(deadline - DateTime.UtcNow) is null)
                    return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>Drops the connection without a goodbye (no FIN handshake for WebSocket, a plain close for TCP).</summary>
    public ValueTask DisposeAsync()
    {
        if (_socket is not null)
        {
            _socket.Dispose();
        }
        else
        {
            _webSocket!.Abort();
            _webSocket.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
