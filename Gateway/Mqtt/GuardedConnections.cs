using System.Collections.Concurrent;
using System.Net;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The open MQTT connections behind the <see cref="MqttConnectionGuard"/>, by remote end point (MQTTnet's
/// events name only the peer): the listener each came through, and its input, which can be held.
/// A connection's input is held just before the server tells it to go (session taken over, too far behind, server
/// draining). MQTTnet marks such a connection as stopping before it writes the DISCONNECT; a busy client's next
/// packet then ends the connection's read loop, and the connection closes before the DISCONNECT is out: the client
/// sees a bare close and never learns why. Held, the read loop waits until MQTTnet cancels it, which it does after
/// the DISCONNECT was written.</summary>
public sealed class GuardedConnections
{
    /// <summary>Longest hold: if the disconnect it waits for never comes (the taking connection failed), reading resumes.</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Guarded> _byRemote = new();

    internal void Add(string remote, string transport, MqttFrameReader input) => _byRemote[remote] = new(transport, input);

    internal void Remove(string remote, MqttFrameReader input)
    {
        if (_byRemote.TryGetValue(remote, out var guarded) && guarded.Input == input)
            _byRemote.TryRemove(new KeyValuePair<string, Guarded>(remote, guarded));
    }

    /// <summary>The transport (<c>tcp</c>, <c>tls</c>, <c>websocket</c>) of the open connection from <paramref name="remote"/>.</summary>
    public string TransportOf(EndPoint? remote) =>
        remote is not null && _byRemote.TryGetValue(remote.ToString()!, out var guarded) ? guarded.Transport : "unknown";

    /// <summary>Stops reading the connection from <paramref name="remote"/> (for at most <see cref="HoldLimit"/>).</summary>
    public void Hold(string? remote)
    {
        if (remote is not null && _byRemote.TryGetValue(remote, out var guarded))
            guarded.Input.Hold(HoldLimit);
    }

    public void Hold(EndPoint? remote) => Hold(remote?.ToString());

    private sealed record Guarded(string Transport, MqttFrameReader Input);
}
