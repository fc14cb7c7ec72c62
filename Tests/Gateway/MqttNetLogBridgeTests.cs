using ImOrleans.Gateway.Mqtt;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace ImOrleans.Tests.Gateway;

/// <summary>MQTTnet's log reaches ours one level down, under its source's category, formatted; its verbose level
/// does not.</summary>
[TestClass]
public sealed class MqttNetLogBridgeTests
{
    [TestMethod]
    public void MqttNetMessagesArriveOneLevelDownUnderTheirSource()
    {
        using var provider = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var bridge = new MqttNetLogBridge(factory);
        var failure = new IOException("broken pipe");

        bridge.Publish(MqttNetLogLevel.Error, "MqttConnectedClient", "Client '{0}': could not send DISCONNECT", ["alice/phone"], failure);
        bridge.Publish(MqttNetLogLevel.Warning, "MqttConnectedClient", "Client '{0}': connection lost", ["bob/phone"], null!);
        bridge.Publish(MqttNetLogLevel.Verbose, "MqttClientSessionsManager", "Created new session for client '{0}'", ["carol/phone"], null!);

        var records = provider.Collector.GetSnapshot();
        Assert.HasCount(2, records, "the verbose line is dropped");
        Assert.AreEqual(LogLevel.Warning, records[0].Level);
        Assert.AreEqual("MQTTnet.MqttConnectedClient", records[0].Category);
        Assert.AreEqual("Client 'alice/phone': could not send DISCONNECT", records[0].Message);
        Assert.AreSame(failure, records[0].Exception);
        Assert.AreEqual(LogLevel.Information, records[1].Level);
        Assert.AreEqual("Client 'bob/phone': connection lost", records[1].Message);
    }

    [TestMethod]
    public void AnErrorThatIsOnlyAPeerResettingItsConnectionIsNotAWarning()
    {
        using var provider = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var bridge = new MqttNetLogBridge(factory);
        var reset = new Microsoft.AspNetCore.Connections.ConnectionResetException("Connection reset by peer",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset));

        bridge.Publish(MqttNetLogLevel.Error, "MqttConnectedClient", "Client '{0}': Error while processing PUBACK packet", ["alice/terminal"], reset);

        var record = provider.Collector.GetSnapshot().Single();
        Assert.AreEqual(LogLevel.Information, record.Level, "a client that went away without DISCONNECT is daily life");
        Assert.AreSame(reset, record.Exception);
    }
}
