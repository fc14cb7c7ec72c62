using System.Diagnostics;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>The device grain's connection lease (<c>Limits:ConnectionLease</c>), on a server whose lease is 3 s and whose
/// gateway renews every second: a renewed connection outlives many leases, one that nobody renews ends with its lease.</summary>
[TestClass]
public sealed class ConnectionLeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    private static SiloProcess _server = null!;
    private static OrleansClient _orleans = null!;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        _server = await SiloProcess.StartAsync(TempDirectory.Create("lease-end"), $"--Limits:ConnectionLease={Lease}", "--Gateway:TouchInterval=00:00:01");
        _orleans = await OrleansClient.ConnectAsync(_server.GatewayPort);
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        await _orleans.DisposeAsync();
        await _server.DisposeAsync();
    }

    /// <summary>End to end, with the real gateway renewing: an MQTT connection stays bound and gets messages live long
    /// after its first lease would have run out. (Were a lease to end anyway, the gateway's next renewal would bind the
    /// connection again, so whether renewals push the lease back is <see cref="EachRenewalPushesTheLeaseBack"/>'s to
    /// show.)</summary>
    [TestMethod]
    public async Task ARenewedConnectionOutlivesManyLeases()
    {
        var (alice, bob) = (await HttpAccounts.RegisterAsync(_server, "lease"), await HttpAccounts.RegisterAsync(_server, "lease"));
        await using var alicePhone = await MqttTestClient.ConnectAsync(_server.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(_server.MqttPort, bob, "phone", Chat.Password);
        var conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;

        await Task.Delay(3 * Lease);

        var device = _orleans.Client.GetGrain<IDeviceGrain>(Ids.DeviceKey(bob, "phone"));
        Assert.AreEqual(LeaseStatus.Superseded, await device.TouchAsync("probe"), "bob's phone is still the bound connection");
        Assert.IsTrue((await alicePhone.SendAsync(conv, "late-1", "still there?")).IsSuccess);
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "late-1", "bob's phone gets the message live");
    }

    /// <summary>Renewals alone keep a connection: touched twice a second for three leases, it is never found gone (a
    /// lease that ran out would answer Unknown, and the real gateway would quietly bind it again, so this drives the
    /// renewals itself).</summary>
    [TestMethod]
    public async Task EachRenewalPushesTheLeaseBack()
    {
        var dave = await HttpAccounts.RegisterAsync(_server, "lease");
        var gateway = TestGateway.Create(_orleans.Client);
        var device = _orleans.Client.GetGrain<IDeviceGrain>(Ids.DeviceKey(dave, "watch"));
        await device.ConnectAsync(gateway.Reference, "renewed-1", 0);

        var renewing = Stopwatch.StartNew();
        while (renewing.Elapsed < 3 * Lease)
        {
            await Task.Delay(Lease / 6);
            Assert.AreEqual(LeaseStatus.Current, await device.TouchAsync("renewed-1"), $"renewed at {renewing.Elapsed}");
        }
    }

    /// <summary>A gateway that binds a connection and then goes silent (it died): the device goes offline when the lease
    /// ends, not before.</summary>
    [TestMethod]
    public async Task AConnectionNobodyRenewsEndsWithItsLease()
    {
        var carol = await HttpAccounts.RegisterAsync(_server, "lease");
        var silentGateway = TestGateway.Create(_orleans.Client);
        var device = _orleans.Client.GetGrain<IDeviceGrain>(Ids.DeviceKey(carol, "tablet"));
        var bound = Stopwatch.StartNew();
        await device.ConnectAsync(silentGateway.Reference, "silent-1", 0);

        await Task.Delay(Lease / 2);
        Assert.AreEqual(LeaseStatus.Superseded, await device.TouchAsync("probe"), "still bound halfway through the lease");
        await Eventually.TrueAsync(async () => await device.TouchAsync("probe") == LeaseStatus.Unknown,
            "the device grain dropped the connection", timeoutMs: 20_000);
        Assert.IsGreaterThanOrEqualTo(Lease - TimeSpan.FromMilliseconds(100), bound.Elapsed, "not before the lease ended");
    }
}
