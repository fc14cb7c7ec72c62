using System.Text;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>MQTT control packets built byte by byte, for tests that must send what no client library would.</summary>
public static class MqttFrames
{
    /// <summary>A CONNECT: version 4 is MQTT 3.1.1, 5 is MQTT 5.0 (with an empty property block).</summary>
    public static byte[] Connect(string clientId, string? user = null, string? password = null, byte version = 4)
    {
        var body = new List<byte>();
        body.AddRange(String("MQTT"));
        body.Add(version);
        body.Add((byte)(0x02 | (user is null ? 0 : 0x80) | (password is null ? 0 : 0x40)));
        body.AddRange([0x00, 0x3C]); // keepalive 60 s
        if (version == 5)
            body.Add(0x00);
        body.AddRange(String(clientId));
        if (user is not null)
            body.AddRange(String(user));
        if (password is not null)
            body.AddRange(String(password));
        return Packet(0x10, body);
    }

    /// <summary>A QoS 1 PUBLISH (MQTT 3.1.1 layout).</summary>
    public static byte[] Publish(string topic, string payload, ushort packetId = 1)
    {
        var body = new List<byte>(String(topic)) { (byte)(packetId >> 8), (byte)packetId };
        body.AddRange(Encoding.UTF8.GetBytes(payload));
        return Packet(0x32, body);
    }

    /// <summary>A SUBSCRIBE for one filter at QoS 1 (MQTT 3.1.1 layout).</summary>
    public static byte[] Subscribe(string filter, ushort packetId = 2)
    {
        var body = new List<byte> { (byte)(packetId >> 8), (byte)packetId };
        body.AddRange(String(filter));
        body.Add(0x01);
        return Packet(0x82, body);
    }

    public static readonly byte[] PingRequest = [0xC0, 0x00];
    public static readonly byte[] Disconnect = [0xE0, 0x00];

    /// <summary>A fixed header with a remaining-length varint, and the body.</summary>
    public static byte[] Packet(byte header, IReadOnlyCollection<byte> body)
    {
        var bytes = new List<byte> { header };
        var length = body.Count;
        do
        {
            var digit = (byte)(length % 128);
            length /= 128;
            bytes.Add(length > 0 ? (byte)(digit | 0x80) : digit);
        } while (length > 0);
        bytes.AddRange(body);
        return [.. bytes];
    }

    private static byte[] String(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return [(byte)(utf8.Length >> 8), (byte)utf8.Length, .. utf8];
    }
}
