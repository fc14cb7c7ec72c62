using System.Collections.Concurrent;
using System.Net.Sockets;
using MQTTnet.Diagnostics.Logger;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>MQTTnet's own log (a failed DISCONNECT, a send that timed out) into ours, under the category
/// <c>MQTTnet.{source}</c>; without it MQTTnet logs to nowhere. One level down: MQTTnet warns of every connection a
/// phone drops, which is daily life for a chat server, not something for an operator to act on (and its errors that are
/// only a peer resetting the connection go down to that level too). Its verbose level is dropped before anything
/// else is done.</summary>
public sealed class MqttNetLogBridge(ILoggerFactory loggers) : IMqttNetLogger
{
    // One logger per MQTTnet source, made once: the factory takes a lock for every logger it hands out.
    private readonly ConcurrentDictionary<string, ILogger> _bySource = new();

    public bool IsEnabled => true;

    public void Publish(MqttNetLogLevel level, string source, string message, object[] parameters, Exception exception)
    {
        var mapped = level switch
        {
            MqttNetLogLevel.Error => LogLevel.Warning,
            MqttNetLogLevel.Warning => LogLevel.Information,
            MqttNetLogLevel.Info => LogLevel.Debug,
            _ => LogLevel.None,
        };
        if (mapped == LogLevel.None)
            return;
        // MQTTnet reports a peer that reset its connection (a phone losing its network, a CLI tool exiting without
        // DISCONNECT) as an error of whatever it was doing; it is a dropped client like any other.
        if (mapped == LogLevel.Warning && IsPeerReset(exception))
            mapped = LogLevel.Information;
        var log = _bySource.GetOrAdd(source ?? "", s => loggers.CreateLogger($"MQTTnet.{s}"));
        if (!log.IsEnabled(mapped))
            return;
        var text = parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message;
#pragma warning disable CA2254 // MQTTnet formats its own messages
        log.Log(mapped, exception, text);
#pragma warning restore CA2254
    }

    private static bool IsPeerReset(Exception? exception) =>
        exception is Microsoft.AspNetCore.Connections.ConnectionResetException
        || (exception as SocketException ?? exception?.InnerException as SocketException)?.SocketErrorCode == SocketError.ConnectionReset;
}
