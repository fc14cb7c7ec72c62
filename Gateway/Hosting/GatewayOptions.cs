namespace ImOrleans.Gateway.Hosting;

/// <summary>Client-facing listeners and limits, bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Address the MQTT listeners bind to; loopback by default so a fresh start exposes nothing.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>MQTT over TCP; 0 turns it off.</summary>
    public int MqttPort { get; set; } = 1883;

    /// <summary>MQTT over TLS; only opened when <see cref="TlsCertificatePath"/> is set.</summary>
    public int MqttTlsPort { get; set; } = 8883;

    /// <summary>PFX (PKCS#12) certificate for the TLS listener.</summary>
    public string? TlsCertificatePath { get; set; }
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Largest accepted publish payload, in bytes.</summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Room for a packet's topic, properties and headers on top of the payload.</summary>
    public const int PacketHeadroomBytes = 16 * 1024;

    /// <summary>Largest packet of any kind; a fixed header announcing more ends the connection before anything is buffered.</summary>
    public int MaxPacketBytes => MaxPayloadBytes + PacketHeadroomBytes;

    /// <summary>How long a new connection may take to send its whole CONNECT before it is closed.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Connections that have not sent their whole CONNECT yet; more are closed at once.</summary>
    public int MaxPendingConnections { get; set; } = 1000;

    /// <summary>Deliveries a connection may have outstanding (sent, not yet acknowledged); further messages wait in the
    /// store until acks make room (delivery resumes at half). Keep it below <see cref="MaxInFlightPerDevice"/>.</summary>
    public int DeliveryWindow { get; set; } = 500;

    /// <summary>Deliveries a device may leave unacknowledged before the gateway drops it (it re-syncs from its cursor).</summary>
    public int MaxInFlightPerDevice { get; set; } = 1000;

    /// <summary>How long a connection's acknowledgements gather before they go to its device grain in one call.
    /// A gateway crash loses at most this much of them: those messages are delivered again (clients drop repeats).</summary>
    public TimeSpan AckDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Publishes per second a device may make on average, and the burst it may make at once.</summary>
    public int RatePerSecond { get; set; } = 50;
    public int RateBurst { get; set; } = 100;

    /// <summary>Whether <c>POST /v1/auth/register</c> is open (on by default in the embedded mode, off in a cluster).</summary>
    public bool OpenRegistration { get; set; } = true;

    /// <summary>Whether the MQTT password may be the account password instead of an access token (on by default in the
    /// embedded mode, off in a cluster, where apps get tokens from <c>/v1/auth/token</c>).</summary>
    public bool PasswordLogin { get; set; } = true;

    /// <summary>Where MQTT 5 clients are told to reconnect when this gateway shuts down (DISCONNECT's server
    /// reference, e.g. the load balancer's name); none by default, and the reason code alone says "use another server".</summary>
    public string? ServerReference { get; set; }

    /// <summary>How often the gateway renews its connections' leases with the device grains.</summary>
    public TimeSpan TouchInterval { get; set; } = TimeSpan.FromSeconds(60);
}
