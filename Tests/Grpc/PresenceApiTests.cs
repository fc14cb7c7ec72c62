using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary><c>im.v1.Presence</c>: the trusted view of users whose devices come and go over real MQTT.</summary>
[TestClass]
public sealed class PresenceApiTests
{
    [TestMethod]
    public async Task GetShowsTheRealStatusEvenOfInvisibleUsers()
    {
        var api = await Api.SharedAsync();
        var (online, invisible, offline) = (await api.NewUserAsync(), await api.NewUserAsync(), await api.NewUserAsync());
        await using var onlinePhone = await GatewayFixture.ConnectAsync(online, "phone");
        await using var invisiblePhone = await GatewayFixture.ConnectAsync(invisible, "phone");
        await onlinePhone.PublishAsync("p", new { status = "busy", text = "in a meeting" });
        await invisiblePhone.PublishAsync("p", new { status = "invisible" });

        var presence = await api.Presence.GetPresenceAsync(new GetPresenceRequest { Users = { online, invisible, offline } });

        CollectionAssert.AreEqual(new[] { online, invisible, offline }, presence.Presence.Select(p => p.User).ToArray(), "request order");
        Assert.AreEqual(PresenceStatus.Busy, presence.Presence[0].Status);
        Assert.AreEqual("in a meeting", presence.Presence[0].Text);
        Assert.AreEqual(PresenceStatus.Invisible, presence.Presence[1].Status, "the trusted view sees through invisible");
        Assert.AreEqual(PresenceStatus.Offline, presence.Presence[2].Status);
        Assert.IsNull(presence.Presence[2].LastSeen, "never connected");
        await Refused.WithAsync(StatusCode.InvalidArgument, () => api.Presence.GetPresenceAsync(new GetPresenceRequest()).ResponseAsync);
    }

    [TestMethod]
    public async Task WatchStartsWithTheCurrentStatusThenStreamsChanges()
    {
        var api = await Api.SharedAsync();
        var user = await api.NewUserAsync();
        using var call = api.Presence.WatchPresence(new WatchPresenceRequest { Users = { user } });

        var initial = await Streams.NextAsync(call.ResponseStream, "the current presence");
        var phone = await GatewayFixture.ConnectAsync(user, "phone");
        var online = await Streams.NextAsync(call.ResponseStream, "online after the MQTT connect");
        await phone.DisposeAsync();
        var offline = await Streams.NextAsync(call.ResponseStream, "offline after the MQTT disconnect");

        Assert.AreEqual(PresenceStatus.Offline, initial.Status);
        Assert.AreEqual(PresenceStatus.Online, online.Status);
        Assert.AreEqual(PresenceStatus.Offline, offline.Status);
        Assert.IsNotNull(offline.LastSeen, "going offline records when");
    }
}
