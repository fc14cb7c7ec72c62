using System.Collections.Concurrent;
using System.Net;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The open MQTT connections' inputs by remote end point, so that a connection can stop being read just before
/// the server tells it to go (session taken over, too far behind, server draining). MQTTnet marks such a connection
/// as stopping before it writes the DISCONNECT; a busy client's next packet then ends the connection's read loop, and
/// the connection closes before the DISCONNECT is out: the client sees a bare close and never learns why.
/// Held, the read loop waits until MQTTnet cancels it, which it does after the DISCONNECT was written.</summary>
public sealed class InputHolds
{
    /// <summary>Longest hold: if the disconnect it waits for never comes (the taking connection failed), reading resumes.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, MqttFrameReader> _byRemote = new();

    internal void Add(string remote, MqttFrameReader reader) => _byRemote[remote] = reader;

    internal void Remove(string remote, MqttFrameReader reader) =>
        _byRemote.TryRemove(new KeyValuePair<string, MqttFrameReader>(remote, reader));

    /// <summary>Stops reading the connection from <paramref name="remote"/> (for at most <see cref="Limit"/>).</summary>
    public void Hold(string? remote)
    {
        if (remote is not null && _byRemote.TryGetValue(remote, out var reader))
            reader.Hold(Limit);
    }

    public void Hold(EndPoint? remote) => Hold(remote?.ToString());
}
