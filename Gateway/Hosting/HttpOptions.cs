namespace ImOrleans.Gateway.Hosting;

/// <summary>The HTTP listener: auth endpoints, MQTT over WebSocket, health; bound from <c>Http</c>.</summary>
public sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Address to bind; loopback by default so a fresh start exposes nothing.</summary>
    public string Address { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 8080;
}
