using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class PresenceTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IUserGrain User(string id) => _grains.GetGrain<IUserGrain>(id);

    private static async Task<(string A, string B)> MutualContactsAsync()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await User(a).AddContactAsync(b);
        await User(b).AddContactAsync(a);
        return (a, b);
    }

    [TestMethod]
    public async Task MutualContactsSeeEachOtherComeAndGo()
    {
        var (a, b) = await MutualContactsAsync();
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");

        await gw.ConnectAsync(_grains, b, "phone", "b-conn");
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").Any(p => p.User == b && p.Status == PresenceStatus.Online), "a sees b online");
        Assert.AreEqual(PresenceStatus.Online, (await User(b).GetPresenceAsync(a)).Status);

        await _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "phone")).DisconnectAsync("b-conn");
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").Any(p => p.User == b && p.Status == PresenceStatus.Offline), "a sees b offline");
        var seen = await User(b).GetPresenceAsync(a);
        Assert.AreEqual(PresenceStatus.Offline, seen.Status);
        Assert.IsNotNull(seen.LastSeen);
    }

    [TestMethod]
    public async Task OneSidedContactSeesNothing()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await User(a).AddContactAsync(b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");

        var seen = await User(b).GetPresenceAsync(a);

        Assert.AreEqual(PresenceStatus.Offline, seen.Status);
        Assert.IsNull(seen.LastSeen);
    }

    [TestMethod]
    public async Task ExplicitStatusIsSharedAndInvisibleLooksOffline()
    {
        var (a, b) = await MutualContactsAsync();
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, b, "phone");

        await User(b).SetPresenceAsync(PresenceStatus.Busy, "in a meeting");
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").Any(p => p is { Status: PresenceStatus.Busy, Text: "in a meeting" }), "a sees busy");

        await User(b).SetPresenceAsync(PresenceStatus.Invisible, null);
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").LastOrDefault(p => p.User == b)?.Status == PresenceStatus.Offline, "invisible shows as offline");
        Assert.AreEqual(PresenceStatus.Invisible, (await User(b).GetPresenceAsync(b)).Status, "the user still sees their own status");
        await Chat.RefusedAsync(() => User(b).SetPresenceAsync("sleepy", null), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task SecondDeviceDoesNotRepeatTheOnlineUpdate()
    {
        var (a, b) = await MutualContactsAsync();
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, b, "phone");
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").Any(p => p.User == b), "first update");

        await gw.ConnectAsync(_grains, b, "laptop");
        await User(b).SetPresenceAsync(PresenceStatus.Away, null); // a later update proves delivery has caught up
        await Eventually.TrueAsync(() => gw.Presence(a, "phone").Any(p => p.Status == PresenceStatus.Away), "away update");

        Assert.AreEqual(1, gw.Presence(a, "phone").Count(p => p.User == b && p.Status == PresenceStatus.Online));
    }

    [TestMethod]
    public async Task BlockingHidesPresence()
    {
        var (a, b) = await MutualContactsAsync();
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");

        await User(b).BlockAsync(a);

        Assert.AreEqual(PresenceStatus.Offline, (await User(b).GetPresenceAsync(a)).Status);
    }
}
