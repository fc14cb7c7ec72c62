using ImOrleans.Gateway.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Bounds what a connection costs before it has said who it is, on every MQTT listener (TCP, TLS,
/// WebSocket): at most <see cref="GatewayOptions.MaxPendingConnections"/> connections may be waiting for their
/// CONNECT, each for at most <see cref="GatewayOptions.ConnectTimeout"/>; and what the server writes last (a CONNACK
/// refusal, a DISCONNECT) is not lost to a reset because the client was still sending (<see cref="LingeringClose"/>).</summary>
public sealed class MqttConnectionGuard(IOptions<GatewayOptions> options, MqttDrain drain, MqttConnectionHandler handler, ILogger<MqttConnectionGuard> log)
{
    private readonly GatewayOptions _options = options.Value;
    private readonly ILogger _log = log;
    private int _pending;

    /// <summary>Connections accepted whose CONNECT has not fully arrived yet.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public ConnectionDelegate For(string transport) => connection => GuardAsync(connection, transport);

    // Not async: a connection that got past the guard runs in the handler alone, with no frame of this waiting on it.
    private Task GuardAsync(ConnectionContext connection, string transport)
    {
        if (drain.IsDraining)
        {
            GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "draining"));
            connection.Abort(new ConnectionAbortedException("the gateway is shutting down"));
            return Task.CompletedTask;
        }
        if (Interlocked.Increment(ref _pending) > _options.MaxPendingConnections)
        {
            Interlocked.Decrement(ref _pending);
            GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "pending_cap"));
            _log.LogDebug("Refused {Remote}: {Pending} connections are already waiting for their CONNECT", connection.RemoteEndPoint, Pending);
            connection.Abort(new ConnectionAbortedException("too many connections without CONNECT"));
            return Task.CompletedTask;
        }

        // The handler says when the CONNECT is in (or the connection ended without one), and closes the connection.
        var waiting = new PendingConnect(this, connection, _options.ConnectTimeout);
        return handler.RunAsync(connection, transport, waiting.Arrived);
    }

    /// <summary>One connection's wait for its CONNECT: aborted when the deadline passes first, counted off the
    /// pending connections exactly once.</summary>
    private sealed class PendingConnect
    {
        private readonly MqttConnectionGuard _guard;
        // Dropped once the CONNECT is in: with its callback it would otherwise live as long as the connection.
        private CancellationTokenSource? _deadline;
        private int _done;

        public PendingConnect(MqttConnectionGuard guard, ConnectionContext connection, TimeSpan timeout)
        {
            _guard = guard;
            _deadline = new CancellationTokenSource(timeout);
            _deadline.Token.Register(() =>
            {
                GatewayMetrics.Refusals.Add(1, GatewayMetrics.Tag("reason", "connect_timeout"));
                guard._log.LogDebug("Closed {Remote}: no CONNECT within {Timeout}", connection.RemoteEndPoint, timeout);
                connection.Abort(new ConnectionAbortedException("no CONNECT in time"));
            });
        }

        public void Arrived()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
                return;
            _deadline!.Dispose();
            _deadline = null;
            Interlocked.Decrement(ref _guard._pending);
        }
    }
}

public static class MqttConnectionGuardExtensions
{
    /// <summary>MQTT on this listener or endpoint, behind the <see cref="MqttConnectionGuard"/>; metrics tag its
    /// connections with <paramref name="transport"/>.</summary>
    public static IConnectionBuilder UseGuardedMqtt(this IConnectionBuilder builder, string transport) =>
        builder.Use(_ => builder.ApplicationServices.GetRequiredService<MqttConnectionGuard>().For(transport));
}
