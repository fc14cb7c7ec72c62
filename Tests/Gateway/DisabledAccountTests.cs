using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>A disabled account over MQTT, when the grains that hold its session forgot it (as after a silo failure).</summary>
[TestClass]
public sealed class DisabledAccountTests
{
    [TestMethod]
    public async Task SessionThatOutlivesTheDisablingCanNeitherSendNorCall()
    {
        var silo = await GatewayFixture.SiloAsync();
        var (alice, bob) = (await GatewayFixture.RegisterAsync("dis"), await GatewayFixture.RegisterAsync("dis"));
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(phone, "direct", bob);
        await using var orleans = await OrleansClient.ConnectAsync(silo.GatewayPort);
        var grains = orleans.Client;

        // The device and user grains forget the connection; the gateway keeps it until its next lease renewal.
        var device = grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(alice, "phone"));
        await device.DeactivateAsync();
        await grains.GetGrain<IUserGrain>(alice).DeactivateAsync();
        await Eventually.TrueAsync(async () => await device.TouchAsync("probe") == LeaseStatus.Unknown, "the device grain was reactivated");
        await grains.GetGrain<IUserGrain>(alice).SetDisabledAsync(true);

        var send = await phone.SendAsync(conv, "m1", "sent after the account was disabled");
        var reply = await phone.RpcAsync("conv.list");

        Assert.AreEqual(MqttClientPublishReasonCode.NotAuthorized, send.ReasonCode, send.ReasonString);
        Assert.AreEqual(ErrorCodes.Disabled, (string?)reply["error"]?["code"], reply.ToJsonString());
        Assert.IsEmpty(await grains.GetGrain<IConversationGrain>(conv).HistoryAsync(bob, new HistoryQuery()), "nothing was stored");
    }
}
