using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class UserGrainTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    [TestMethod]
    public async Task CreatedUserLogsInWithTheRightPasswordOnly()
    {
        var user = await Chat.NewUserAsync(_grains);
        var grain = _grains.GetGrain<IUserGrain>(user);

        Assert.IsTrue(await grain.VerifyPasswordAsync(Chat.Password));
        Assert.IsFalse(await grain.VerifyPasswordAsync("wrong password"));
        Assert.IsFalse(await grain.VerifyPasswordAsync(""));
    }

    [TestMethod]
    public async Task UnknownUserDoesNotLogIn() =>
        Assert.IsFalse(await _grains.GetGrain<IUserGrain>(Unique.User()).VerifyPasswordAsync(Chat.Password));

    [TestMethod]
    public async Task CreatingTheSameUserTwiceIsRefused()
    {
        var user = await Chat.NewUserAsync(_grains);
        await Chat.RefusedAsync(() => _grains.GetGrain<IUserGrain>(user).CreateAsync("another password"), ErrorCodes.AlreadyExists);
    }

    [TestMethod]
    public async Task ShortPasswordIsRefused() =>
        await Chat.RefusedAsync(() => _grains.GetGrain<IUserGrain>(Unique.User()).CreateAsync("short"), ErrorCodes.WeakPassword);

    [TestMethod]
    [DataRow("Alice")]
    [DataRow("has space")]
    [DataRow("slash/y")]
    [DataRow("system")]
    [DataRow("system\n")] // '$' would match before a final newline, and this one would pass for the system
    [DataRow("alice\n")]
    public async Task BadOrReservedUserIdIsRefused(string id) =>
        await Chat.RefusedAsync(() => _grains.GetGrain<IUserGrain>(id).CreateAsync(Chat.Password), ErrorCodes.InvalidId);

    [TestMethod]
    public async Task LongestAllowedUserIdIsAccepted()
    {
        var id = (Unique.User("x") + new string('a', 64))[..64];
        await _grains.GetGrain<IUserGrain>(id).CreateAsync(Chat.Password);
        Assert.IsTrue((await _grains.GetGrain<IUserGrain>(id).GetProfileAsync()).Exists);
    }

    [TestMethod]
    public async Task DisabledUserCannotLogInUntilEnabled()
    {
        var user = await Chat.NewUserAsync(_grains);
        var grain = _grains.GetGrain<IUserGrain>(user);

        await grain.SetDisabledAsync(true);
        Assert.IsFalse(await grain.VerifyPasswordAsync(Chat.Password));
        Assert.IsFalse(await grain.IsActiveAsync());

        await grain.SetDisabledAsync(false);
        Assert.IsTrue(await grain.VerifyPasswordAsync(Chat.Password));
    }

    [TestMethod]
    public async Task NewPasswordReplacesTheOldOne()
    {
        var user = await Chat.NewUserAsync(_grains);
        var grain = _grains.GetGrain<IUserGrain>(user);

        await grain.SetPasswordAsync("a brand new one");

        Assert.IsFalse(await grain.VerifyPasswordAsync(Chat.Password));
        Assert.IsTrue(await grain.VerifyPasswordAsync("a brand new one"));
    }

    [TestMethod]
    public async Task DevicesPastTheLimitAreRefused()
    {
        var user = await Chat.NewUserAsync(_grains);
        var grain = _grains.GetGrain<IUserGrain>(user);
        for (var i = 0; i < ClusterFixture.MaxDevicesPerUser; i++)
            await grain.RegisterDeviceAsync($"dev{i}");

        await grain.RegisterDeviceAsync("dev0"); // a known device is not a new one
        await Chat.RefusedAsync(() => grain.RegisterDeviceAsync("one-too-many"), ErrorCodes.LimitExceeded);
        Assert.HasCount(ClusterFixture.MaxDevicesPerUser, (await grain.GetProfileAsync()).Devices);
    }

    [TestMethod]
    [DataRow("has space")]
    [DataRow("a/b")]
    [DataRow("")]
    [DataRow("phone\n")]
    public async Task BadDeviceIdIsRefused(string device)
    {
        var user = await Chat.NewUserAsync(_grains);
        await Chat.RefusedAsync(() => _grains.GetGrain<IUserGrain>(user).RegisterDeviceAsync(device), ErrorCodes.InvalidId);
    }

    [TestMethod]
    public async Task ContactsAndBlocksAreListed()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var grain = _grains.GetGrain<IUserGrain>(a);

        await grain.AddContactAsync(b);
        await grain.AddContactAsync(c);
        await grain.RemoveContactAsync(c);
        await grain.BlockAsync(c);

        CollectionAssert.AreEqual(new[] { b }, (await grain.ListContactsAsync()).ToArray());
        CollectionAssert.AreEqual(new[] { c }, (await grain.ListBlockedAsync()).ToArray());
        await Chat.RefusedAsync(() => grain.AddContactAsync(Unique.User()), ErrorCodes.NotFound);
        await Chat.RefusedAsync(() => grain.AddContactAsync(a), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task RemovedDeviceFreesItsSlotAndForgetsItsCursors()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var grain = _grains.GetGrain<IUserGrain>(b);
        for (var i = 0; i < ClusterFixture.MaxDevicesPerUser; i++)
            await grain.RegisterDeviceAsync($"dev{i}");
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "dev0");
        await _grains.GetGrain<IConversationGrain>(id).SendAsync(a, "phone", "m1", "hi");
        await Eventually.TrueAsync(() => gw.Messages(b, "dev0").Count == 1, "delivered");
        await _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "dev0")).AckAsync(id, 1);

        await grain.RemoveDeviceAsync("dev0");

        await grain.RegisterDeviceAsync("replacement");
        await Eventually.TrueAsync(() => gw.Closed.Contains(Ids.DeviceKey(b, "dev0")), "the removed device's session is closed");
        await Eventually.TrueAsync(async () => (await _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "dev0")).GetCursorsAsync()).Count == 0, "cursors forgotten");
        await Chat.RefusedAsync(() => grain.RemoveDeviceAsync("never-had-it"), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task DevicesRegisteredInAStormAreAllKeptAcrossADeactivation()
    {
        var user = await Chat.NewUserAsync(_grains);
        var account = _grains.GetGrain<IUserGrain>(user);
        var devices = Enumerable.Range(0, 2).Select(i => $"dev{i}").ToArray(); // the test cluster allows three

        await Task.WhenAll(devices.Select(d => account.RegisterDeviceAsync(d)));
        // Online through a gateway, so that the reactivated grain can be told from the old one (it knows no connection).
        await TestGateway.Create(_grains).ConnectAsync(_grains, user, "phone");
        await account.DeactivateAsync(); // a graceful deactivation (a silo shedding memory or shutting down)
        await Eventually.TrueAsync(async () => (await account.GetPresenceAsync(null)).Status == PresenceStatus.Offline, "reactivated");

        CollectionAssert.AreEquivalent(devices.Append("phone").ToArray(), (await account.GetProfileAsync()).Devices.ToArray(),
            "every device is listed by the reactivated grain");
    }

    [TestMethod]
    public async Task DisabledAccountIsShutOutAlthoughItsUserGrainForgotItsDevices()
    {
        var (user, other) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, user, other);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, user, "phone");
        var account = _grains.GetGrain<IUserGrain>(user);
        await account.DeactivateAsync();
        await Eventually.TrueAsync(async () => (await account.GetPresenceAsync(null)).Status == PresenceStatus.Offline,
            "the reactivated user grain does not know the phone is online");

        await account.SetDisabledAsync(true);

        await Eventually.TrueAsync(() => gw.Closed.Contains(Ids.DeviceKey(user, "phone")), "the phone's session is ended all the same");
        await Chat.RefusedAsync(() => _grains.GetGrain<IConversationGrain>(id).SendAsync(user, "phone", "m1", "still here"), ErrorCodes.Disabled);
        await Chat.RefusedAsync(() => gw.ConnectAsync(_grains, user, "laptop"), ErrorCodes.Disabled);
        await Chat.RefusedAsync(() => account.SetDeviceOnlineAsync("phone", gw.Reference), ErrorCodes.Disabled); // what a lease renewal asks
    }

    [TestMethod]
    public async Task DisabledAccountsConnectionIsRefusedWhenTheGatewayBindsItAgain()
    {
        var user = await Chat.NewUserAsync(_grains);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, user, "phone", "conn-1");
        var device = _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(user, "phone"));
        await device.DeactivateAsync();
        await Eventually.TrueAsync(async () => await device.TouchAsync("conn-1") == LeaseStatus.Unknown, "the reactivated device grain knows no connection");

        await _grains.GetGrain<IUserGrain>(user).SetDisabledAsync(true);

        // What the gateway's lease renewal does with a connection its device grain no longer knows.
        await Chat.RefusedAsync(() => gw.ConnectAsync(_grains, user, "phone", "conn-1"), ErrorCodes.Disabled);
        await Eventually.TrueAsync(() => gw.Closed.Contains(Ids.DeviceKey(user, "phone")), "the gateway is told to close the connection");
    }

    [TestMethod]
    public async Task DisablingAUserEndsItsSessions()
    {
        var user = await Chat.NewUserAsync(_grains);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, user, "phone");

        await _grains.GetGrain<IUserGrain>(user).SetDisabledAsync(true);

        await Eventually.TrueAsync(() => gw.Closed.Contains(Ids.DeviceKey(user, "phone")), "the gateway is told to close the session");
        await Eventually.TrueAsync(async () => (await _grains.GetGrain<IUserGrain>(user).GetPresenceAsync(null)).Status == ImOrleans.Models.PresenceStatus.Offline, "offline");
    }
}
