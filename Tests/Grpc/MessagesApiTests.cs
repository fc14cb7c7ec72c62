using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary><c>im.v1.Messages</c>: sends take the MQTT path (same seq, fan-out, idempotency), history pages by seq.</summary>
[TestClass]
public sealed class MessagesApiTests
{
    [TestMethod]
    public async Task SystemMessageReachesMqttDevicesAndHistoryWithFromSystem()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");

        var sent = await api.SendAsync(group, "maintenance at noon", id: "notice-1");

        var delivered = await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "notice-1", "the system message over MQTT");
        Assert.AreEqual(Ids.SystemUser, (string?)delivered["from"]);
        Assert.AreEqual("", (string?)delivered["dev"]);
        Assert.AreEqual(sent.Message.Seq, (long?)delivered["seq"]);
        Assert.AreEqual(sent.Message.Timestamp.ToDateTimeOffset().ToUnixTimeMilliseconds(), (long?)delivered["ts"]);
        var history = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, AsUser = alice });
        var stored = history.Messages.Single();
        Assert.AreEqual(Ids.SystemUser, stored.FromUser);
        Assert.AreEqual("", stored.Device);
        Assert.AreEqual("maintenance at noon", stored.Body);
        Assert.AreEqual(sent.Message, stored);
    }

    [TestMethod]
    public async Task UserSendFromADeviceSkipsThatDeviceAndReachesTheOthers()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var direct = (await api.Conversations.CreateConversationAsync(new CreateConversationRequest
            { AsUser = alice, Kind = ConversationKind.Direct, Members = { bob } })).Id;
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var aliceLaptop = await GatewayFixture.ConnectAsync(alice, "laptop");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");

        await api.SendAsync(direct, "sent by the crm for alice", from: alice, device: "laptop", id: "crm-1");

        var atBob = await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "crm-1", "bob gets alice's message");
        Assert.AreEqual(alice, (string?)atBob["from"]);
        Assert.AreEqual("laptop", (string?)atBob["dev"]);
        await alicePhone.WaitForAsync("m", m => (string?)m["id"] == "crm-1", "alice's other device gets a copy");
        // A later message proves ordering: once it arrives, a copy of crm-1 on the laptop would have arrived too.
        await api.SendAsync(direct, "marker", from: bob, id: "marker");
        await aliceLaptop.WaitForAsync("m", m => (string?)m["id"] == "marker", "the laptop is live");
        Assert.IsFalse(aliceLaptop.Messages(direct).Any(m => (string?)m["id"] == "crm-1"), "the sending device gets no copy");
    }

    [TestMethod]
    public async Task RetryWithTheSameClientIdStoresOneMessage()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);

        var first = await api.SendAsync(group, "once", from: alice, id: "same");
        var retry = await api.SendAsync(group, "once", from: alice, id: "same");
        var generated = await api.SendAsync(group, "no id given", from: alice);
        var history = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group });

        Assert.IsFalse(first.Duplicate);
        Assert.IsTrue(retry.Duplicate);
        Assert.AreEqual(first.Message, retry.Message, "the retry returns the stored message");
        Assert.AreEqual(2, generated.Message.Seq);
        Assert.IsFalse(string.IsNullOrEmpty(generated.Message.ClientMessageId), "the server made up an id");
        CollectionAssert.AreEqual(new long[] { 1, 2 }, history.Messages.Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task HistoryPagesBackwardAndForward()
    {
        var api = await Api.SharedAsync();
        var alice = await api.NewUserAsync();
        var group = await api.NewGroupAsync(alice);
        for (var i = 1; i <= 9; i++)
            await api.SendAsync(group, $"message {i}", from: alice, id: $"m{i}");

        var newest = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, AsUser = alice, Limit = 4 });
        var older = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, Before = 6, Limit = 4 });
        var after = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, After = 7 });

        CollectionAssert.AreEqual(new long[] { 6, 7, 8, 9 }, newest.Messages.Select(m => m.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 3, 4, 5 }, older.Messages.Select(m => m.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 8, 9 }, after.Messages.Select(m => m.Seq).ToArray());
        Assert.AreEqual("message 8", after.Messages[0].Body);
    }

    [TestMethod]
    public async Task RefusalsCarryTheMatchingStatus()
    {
        var api = await Api.SharedAsync();
        var (alice, outsider, disabled) = (await api.NewUserAsync(), await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, disabled);
        await api.Users.DisableUserAsync(new DisableUserRequest { User = disabled });

        await Refused.WithAsync(StatusCode.ResourceExhausted,
            () => api.SendAsync(group, new string('x', 16_001), from: alice), ErrorCodes.LimitExceeded);
        await Refused.WithAsync(StatusCode.PermissionDenied,
            () => api.SendAsync(group, "let me in", from: outsider), ErrorCodes.NotMember);
        await Refused.WithAsync(StatusCode.FailedPrecondition,
            () => api.SendAsync(group, "still here?", from: disabled), ErrorCodes.Disabled);
        await Refused.WithAsync(StatusCode.NotFound,
            () => api.SendAsync(Ids.NewGroup(), "anyone?"), ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.SendAsync(group, "system has no device", device: "phone"), ErrorCodes.BadRequest);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.SendAsync(group, "too long an id", from: alice, id: new string('i', 65)), ErrorCodes.BadPayload);
        await Refused.WithAsync(StatusCode.InvalidArgument,
            () => api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, Before = 5, After = 1 }).ResponseAsync, ErrorCodes.BadRequest);
        await Refused.WithAsync(StatusCode.PermissionDenied,
            () => api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, AsUser = outsider }).ResponseAsync, ErrorCodes.NotMember);
    }
}
