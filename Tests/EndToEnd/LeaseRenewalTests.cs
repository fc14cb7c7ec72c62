using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>The gateway's lease sweep (<c>ConnectionLeaseRenewer</c>), on a server whose sweep runs every second.</summary>
[TestClass]
public sealed class LeaseRenewalTests
{
    /// <summary>A sweep leaves connections bound in the last half interval alone, so that a burst of reconnects is not
    /// renewed again at once; a later sweep must still reach them. Here the device grain forgets the connection (it is
    /// reactivated, as after a silo failure) right after the bind: only a sweep can bind it again.</summary>
    [TestMethod]
    public async Task AConnectionItsDeviceGrainForgotIsBoundAgainByALaterSweep()
    {
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("lease"), "--Gateway:TouchInterval=00:00:01");
        var bob = await HttpAccounts.RegisterAsync(server, "lease");
        await using var phone = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "phone", Chat.Password);
        await using var orleans = await OrleansClient.ConnectAsync(server.GatewayPort);
        var device = orleans.Client.GetGrain<IDeviceGrain>(Ids.DeviceKey(bob, "phone"));
        Assert.AreEqual(LeaseStatus.Superseded, await device.TouchAsync("probe"), "bound by the connect");

        await device.DeactivateAsync();

        // A grain without a connection answers Unknown; once a sweep has bound the phone's connection again, the probe
        // is another connection than the bound one.
        await Eventually.TrueAsync(async () => await device.TouchAsync("probe") == LeaseStatus.Superseded,
            "the phone's connection bound again by a lease sweep", 10_000);
        Assert.IsTrue(phone.IsConnected, "the connection itself was never dropped");
    }
}
