using System.Diagnostics.Metrics;
using ImOrleans.Gateway.Hosting;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>What an operator of a chat gateway watches, on the ImOrleans meter. Tags are low-cardinality only:
/// never a user, device or conversation id.</summary>
public static class GatewayMetrics
{
    private static readonly Meter Meter = new(TelemetryExtensions.Name);

    public static readonly UpDownCounter<long> Connections =
        Meter.CreateUpDownCounter<long>("imorleans.connections", description: "Authenticated MQTT connections, by protocol version and transport");

    public static readonly Counter<long> Connects =
        Meter.CreateCounter<long>("imorleans.connects", description: "MQTT connections authenticated, by protocol version and transport");

    public static readonly Counter<long> Disconnects =
        Meter.CreateCounter<long>("imorleans.disconnects", description: "Authenticated MQTT connections that ended, by type (Clean, NotClean, Takeover)");

    public static readonly Counter<long> Refusals =
        Meter.CreateCounter<long>("imorleans.connections.refused", description: "Connections refused or closed before they were authenticated, by reason");

    public static readonly Counter<long> Publishes =
        Meter.CreateCounter<long>("imorleans.publishes", description: "Client publishes taken, by kind (message, read, typing, presence, rpc)");

    public static readonly Counter<long> PublishesRefused =
        Meter.CreateCounter<long>("imorleans.publishes.refused", description: "Client publishes refused, by error code");

    public static readonly Counter<long> Deliveries =
        Meter.CreateCounter<long>("imorleans.deliveries", description: "Messages handed to device connections (replay and live)");

    public static readonly Counter<long> CatchUps =
        Meter.CreateCounter<long>("imorleans.delivery.catchups", description: "Reads from the store for connections that connected or fell behind, by scope (all, some)");

    public static readonly Counter<long> Replayed =
        Meter.CreateCounter<long>("imorleans.delivery.replayed", description: "Messages handed to connections from the store rather than live (the replay backlog worked off)");

    public static readonly Counter<long> Acks =
        Meter.CreateCounter<long>("imorleans.acks", description: "Deliveries acknowledged by devices (PUBACK)");

    public static readonly Counter<long> TooLarge =
        Meter.CreateCounter<long>("imorleans.packets.too_large", description: "Packets not sent because they were larger than the client's MQTT 5 Maximum Packet Size");

    public static readonly Histogram<double> DeliveryLatency =
        Meter.CreateHistogram<double>("imorleans.delivery.latency", unit: "ms",
            description: "From the message's server time (when it was ordered and stored) to the receiving device's PUBACK");

    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
