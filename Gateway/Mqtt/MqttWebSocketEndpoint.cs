using ImOrleans.Gateway.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Mqtt;

public static class MqttWebSocketEndpoint
{
    /// <summary>MQTT over WebSocket at <paramref name="path"/>, behind the <see cref="MqttConnectionGuard"/>. Only the
    /// WebSocket transport: the connection framework's negotiate step and its other transports are of no use to MQTT
    /// clients and would let anonymous callers create connection state. Buffers hold the largest packet twice over,
    /// so a packet near the limit never leaves the transport paused while MQTTnet waits for the rest of it.</summary>
    public static WebApplication MapMqttWebSocket(this WebApplication app, string path)
    {
        var maxPacket = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.MaxPacketBytes;
        app.Use((context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments($"{path}/negotiate"))
                return next(context);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        var options = new HttpConnectionDispatcherOptions
        {
            Transports = HttpTransportType.WebSockets,
            TransportMaxBufferSize = 2L * maxPacket,
            ApplicationMaxBufferSize = 2L * maxPacket,
        };
        // MQTT over WebSocket names its subprotocol "mqtt" (MQTT 3.1 clients: "mqttv3.1").
        options.WebSockets.SubProtocolSelector = asked => asked.FirstOrDefault(p => p is "mqtt" or "mqttv3.1") ?? "";
        app.MapConnections(path, options, b => b.UseGuardedMqtt("websocket"));
        return app;
    }
}
