using System.Collections.Concurrent;
using MQTTnet.Diagnostics.Logger;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>MQTTnet's own log (a failed DISCONNECT, a send that timed out) into ours, under the category
/// <c>MQTTnet.{source}</c>; without it MQTTnet logs to nowhere. One level down: MQTTnet warns of every connection a
/// phone drops, which is daily life for a chat server, not something for an operator to act on. Its verbose level
/// is dropped before anything else is done.</summary>
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
        var log = _bySource.GetOrAdd(source ?? "", s => loggers.CreateLogger($"MQTTnet.{s}"));
        if (!log.IsEnabled(mapped))
            return;
        var text = parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message;
#pragma warning disable CA2254 // MQTTnet formats its own messages
        log.Log(mapped, exception, text);
#pragma warning restore CA2254
    }
}
