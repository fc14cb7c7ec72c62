using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Gateway;

/// <summary>When the server ends an MQTT 5 connection it says why (a DISCONNECT with a reason code), and that packet
/// must reach the client even while the connection is busy: the close must not overtake what was written before it.</summary>
[TestClass]
public sealed class ServerDisconnectTests
{
    [TestMethod]
    public async Task BusyConnectionThatIsTakenOverIsToldSo()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(bobPhone, "direct", alice);
        // A token, not the password: forty password checks in a row would be throttled as guessing.
        var token = await HttpAccounts.TokenAsync(await GatewayFixture.SiloAsync(), alice);
        var reasons = new List<MqttClientDisconnectReason>();
        for (var round = 0; round < 20; round++)
        {
            var old = await GatewayFixture.ConnectAsync(alice, "phone", password: token);
            // Keep the old connection busy both ways: sends in flight, and bob's replies being delivered to it.
            using var stop = new CancellationTokenSource();
            var busy = Task.WhenAll(
                KeepSendingAsync(old, conv, $"a{round}", stop.Token, takenOver: true),
                KeepSendingAsync(bobPhone, conv, $"b{round}", stop.Token, takenOver: false));
            await Task.Delay(50);

            await using var taking = await GatewayFixture.ConnectAsync(alice, "phone", password: token);
            await Eventually.TrueAsync(() => old.Disconnected is not null, "the old connection ends");
            await stop.CancelAsync();
            await busy;
            reasons.Add(old.Disconnected!.Reason);
            old.Abort();
        }

        CollectionAssert.AreEqual(Enumerable.Repeat(MqttClientDisconnectReason.SessionTakenOver, reasons.Count).ToArray(), reasons.ToArray(),
            $"every taken-over connection is told why: {string.Join(", ", reasons)}");
    }

    [TestMethod]
    [DataRow(MqttProtocolVersion.V500)]
    [DataRow(MqttProtocolVersion.V311)]
    public async Task AConnectionAskingToResumeItsSessionTakesOverWithAFreshOne(MqttProtocolVersion version)
    {
        var alice = await GatewayFixture.RegisterAsync();
        var silo = await GatewayFixture.SiloAsync();
        await using var old = await MqttTestClient.ConnectAsync(silo.MqttPort, alice, "phone", Chat.Password, version, cleanSession: false);
        Assert.IsFalse(old.ConnectResult.IsSessionPresent, "nothing to resume yet");

        await using var taking = await MqttTestClient.ConnectAsync(silo.MqttPort, alice, "phone", Chat.Password, version, cleanSession: false);

        Assert.AreEqual(MqttClientConnectResultCode.Success, taking.ConnectResult.ResultCode);
        Assert.IsFalse(taking.ConnectResult.IsSessionPresent, "the gateway keeps no MQTT session: the store replays instead");
        await Eventually.TrueAsync(() => old.Disconnected is not null, "the older connection ends");
        if (version == MqttProtocolVersion.V500)
            Assert.AreEqual(MqttClientDisconnectReason.SessionTakenOver, old.Disconnected!.Reason);
        Assert.IsNotNull(await taking.CallAsync("conv.list", new JsonObject()), "the new connection is served");
    }

    /// <param name="takenOver">This connection is the one taken over: a send may find its socket already closed by the
    /// server (a broken pipe) before the client has read the DISCONNECT that came first.</param>
    private static async Task KeepSendingAsync(MqttTestClient client, string conv, string prefix, CancellationToken stop, bool takenOver)
    {
        for (var i = 0; !stop.IsCancellationRequested && client.IsConnected && i < 1000; i++)
        {
            try
            {
                await client.SendAsync(conv, $"{prefix}-{i}", "busy");
            }
            catch (Exception) when (!client.IsConnected || stop.IsCancellationRequested)
            {
                return;
            }
            catch (MQTTnet.Exceptions.MqttClientDisconnectedException)
            {
                return;
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException) when (takenOver)
            {
                return;
            }
        }
    }
}
