using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Gateway;

/// <summary>Chat over real MQTT connections to the real embedded server process.</summary>
[TestClass]
public sealed class MqttMessagingTests
{
    [TestMethod]
    public async Task AClientsReceiveMaximumBoundsWhatItHasUnacknowledged()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var silo = await GatewayFixture.SiloAsync();
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await MqttTestClient.ConnectAsync(silo.MqttPort, bob, "phone", Chat.Password, receiveMaximum: 3);
        bobPhone.Acknowledge = false;
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        for (var i = 1; i <= 5; i++)
            Assert.IsTrue((await alicePhone.SendAsync(conv, $"rm{i}", $"{i}")).IsSuccess);

        // Bob acknowledges nothing: the event that the conversation was opened and the first two messages fill his three.
        int Unacknowledged() => bobPhone.Received("e").Count + bobPhone.Received("m").Count;
        await Eventually.TrueAsync(() => Unacknowledged() >= 3, "bob gets as many as he takes at once");
        await Task.Delay(1000);
        Assert.AreEqual(3, Unacknowledged(), "no more than his Receive Maximum until he acknowledges one");
    }

    [TestMethod]
    public async Task AMessageLargerThanTheClientsMaximumPacketSizeIsSkippedAsIfDelivered()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var silo = await GatewayFixture.SiloAsync();
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await using (var bobWatch = await MqttTestClient.ConnectAsync(silo.MqttPort, bob, "watch", Chat.Password, maximumPacketSize: 1024))
        {
            Assert.IsTrue((await alicePhone.SendAsync(conv, "small-1", "hi")).IsSuccess);
            Assert.IsTrue((await alicePhone.SendAsync(conv, "large", new string('x', 2000))).IsSuccess);

            await bobWatch.WaitForAsync("m", m => (string?)m["id"] == "small-1", "the watch gets what fits");
            await Task.Delay(TimeSpan.FromSeconds(2)); // the large one has long been stored and handed to the connection
            Assert.IsFalse(bobWatch.Received("m").Any(m => (string?)m["id"] == "large"), "a packet larger than the client takes is not sent");
            Assert.IsTrue(bobWatch.IsConnected);
        }

        // MQTT's rule: the server carries on as if it had been delivered, so it does not come back on every reconnect.
        await Task.Delay(TimeSpan.FromSeconds(1)); // the acks reach the device grain
        await using var again = await GatewayFixture.ConnectAsync(bob, "watch");
        Assert.IsTrue((await alicePhone.SendAsync(conv, "small-2", "still there?")).IsSuccess);
        await again.WaitForAsync("m", m => (string?)m["id"] == "small-2", "the watch is caught up past it");
        CollectionAssert.AreEqual(new[] { "small-2" }, again.Received("m").Select(m => (string?)m["id"]).ToArray());
    }

    [TestMethod]
    public async Task DirectMessageReachesThePeerAndTheSendersOtherDeviceButNotTheSender()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var aliceLaptop = await GatewayFixture.ConnectAsync(alice, "laptop", MqttProtocolVersion.V311);
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone", MqttProtocolVersion.V311);
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        var puback = await alicePhone.SendAsync(conv, "m1", "hello bob");

        Assert.IsTrue(puback.IsSuccess, puback.ReasonString);
        var atBob = await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "bob gets the message");
        Assert.AreEqual("hello bob", (string?)atBob["body"]);
        Assert.AreEqual(alice, (string?)atBob["from"]);
        Assert.AreEqual("phone", (string?)atBob["dev"]);
        Assert.AreEqual(1L, (long?)atBob["seq"]);
        Assert.IsTrue((long?)atBob["ts"] > 1_700_000_000_000);
        await aliceLaptop.WaitForAsync("m", m => (string?)m["id"] == "m1", "alice's laptop gets a copy");
        Assert.AreEqual("1", Property(puback, "seq"), "an MQTT 5 sender learns the seq from the PUBACK");
        Assert.AreEqual((long?)atBob["ts"], long.Parse(Property(puback, "ts")), "and the server time");
        Assert.IsEmpty(alicePhone.Received("m"), "the sending device gets no copy");

        // MQTT 3.1.1 PUBACKs carry nothing: that sender learns the seq from a "sent" event.
        Assert.IsTrue((await aliceLaptop.SendAsync(conv, "m2", "from the laptop")).IsSuccess);
        var sent = await aliceLaptop.WaitForAsync("e", e => (string?)e["type"] == "sent", "the 3.1.1 sender learns the seq");
        Assert.AreEqual(2L, (long?)sent["seq"]);
        Assert.IsFalse(alicePhone.Received("e").Any(e => (string?)e["type"] == "sent"), "MQTT 5 senders get no sent event");
    }

    [TestMethod]
    public async Task GroupMessagesArriveInOrderOnEveryDevice()
    {
        var users = new List<string>();
        for (var i = 0; i < 3; i++)
            users.Add(await GatewayFixture.RegisterAsync());
        var clients = new List<MqttTestClient>();
        foreach (var u in users)
        {
            clients.Add(await GatewayFixture.ConnectAsync(u, "phone"));
            clients.Add(await GatewayFixture.ConnectAsync(u, "desktop", MqttProtocolVersion.V311));
        }
        var conv = await GatewayFixture.CreateConversationAsync(clients[0], "group", users[1], users[2]);

        // Three senders at once; the per-conversation order must be the same everywhere.
        await Task.WhenAll(new[] { clients[0], clients[2], clients[4] }.Select(async (c, k) =>
        {
            for (var i = 0; i < 10; i++)
                Assert.IsTrue((await c.SendAsync(conv, $"s{k}-{i}", $"{k}:{i}")).IsSuccess);
        }));

        foreach (var c in clients)
        {
            var expected = c.Device == "phone" ? 20 : 30; // phones sent 10 each and get no copy of their own
            await Eventually.TrueAsync(() => c.Messages(conv).Count == expected,
                $"{c.User}/{c.Device} gets {expected} messages (has {string.Join(",", c.Messages(conv).Select(m => $"{m["seq"]}:{m["id"]}"))})");
            var seqs = c.Messages(conv).Select(m => (long)m["seq"]!).ToList();
            CollectionAssert.AreEqual(seqs.Order().ToList(), seqs, $"{c.User}/{c.Device} sees them in seq order");
        }
        foreach (var c in clients)
            await c.DisposeAsync();
    }

    [TestMethod]
    public async Task OfflineDeviceGetsWhatItMissedInOrderOnReconnect()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await alicePhone.SendAsync(conv, "m1", "seen live");
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "live message");
        await bobPhone.DisposeAsync();

        for (var i = 2; i <= 6; i++)
            Assert.IsTrue((await alicePhone.SendAsync(conv, $"m{i}", $"missed {i}")).IsSuccess);
        await using var again = await GatewayFixture.ConnectAsync(bob, "phone");

        await Eventually.TrueAsync(() => again.Messages(conv).Count >= 5, "the five missed messages");
        CollectionAssert.AreEqual(new long[] { 2, 3, 4, 5, 6 }, again.Messages(conv).Select(m => (long)m["seq"]!).ToArray());
    }

    [TestMethod]
    public async Task RepeatedClientMessageIdStoresOneMessage()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        await alicePhone.SendAsync(conv, "same", "once");
        await alicePhone.SendAsync(conv, "same", "once");
        await alicePhone.SendAsync(conv, "next", "twice?");

        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "next", "the following message");
        CollectionAssert.AreEqual(new[] { "same", "next" }, bobPhone.Messages(conv).Select(m => (string)m["id"]!).ToArray());
        var history = await alicePhone.CallAsync("history", new JsonObject { ["conv"] = conv });
        Assert.HasCount(2, history!["messages"]!.AsArray());
    }

    [TestMethod]
    public async Task HistoryPagesBackwardAndForward()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        for (var i = 1; i <= 9; i++)
            await alicePhone.SendAsync(conv, $"m{i}", $"message {i}");

        var newest = (await alicePhone.CallAsync("history", new JsonObject { ["conv"] = conv, ["limit"] = 4 }))!["messages"]!.AsArray();
        var older = (await alicePhone.CallAsync("history", new JsonObject { ["conv"] = conv, ["before"] = 6, ["limit"] = 4 }))!["messages"]!.AsArray();
        var after = (await alicePhone.CallAsync("history", new JsonObject { ["conv"] = conv, ["after"] = 7 }))!["messages"]!.AsArray();

        CollectionAssert.AreEqual(new long[] { 6, 7, 8, 9 }, newest.Select(m => (long)m!["seq"]!).ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 3, 4, 5 }, older.Select(m => (long)m!["seq"]!).ToArray());
        CollectionAssert.AreEqual(new long[] { 8, 9 }, after.Select(m => (long)m!["seq"]!).ToArray());
        Assert.AreEqual("message 8", (string?)after[0]!["body"]);
    }

    [TestMethod]
    public async Task ReadReceiptsAndTypingReachThePeer()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "did you read this?");
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "message");

        await bobPhone.PublishAsync($"c/{conv}/r", new { seq = 1 });
        await bobPhone.PublishAsync($"c/{conv}/t", new { }, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce);

        var read = await alicePhone.WaitForAsync("e", e => (string?)e["type"] == "read", "read receipt");
        Assert.AreEqual(bob, (string?)read["user"]);
        Assert.AreEqual(1L, (long?)read["seq"]);
        await alicePhone.WaitForAsync("e", e => (string?)e["type"] == "typing" && (string?)e["user"] == bob, "typing");
        var reads = await alicePhone.CallAsync("conv.reads", new JsonObject { ["conv"] = conv });
        Assert.AreEqual(1L, (long?)reads!["reads"]![bob]);
        await alicePhone.WaitForAsync("e", e => (string?)e["type"] == "delivered" && (long?)e["seq"] == 1, "delivered (bob's client acked)");
    }

    [TestMethod]
    public async Task ConversationListAndMembershipRpcs()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var carolPhone = await GatewayFixture.ConnectAsync(carol, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob);

        var added = await alicePhone.CallAsync("conv.add", new JsonObject { ["conv"] = conv, ["members"] = new JsonArray(carol) });
        await carolPhone.WaitForAsync("e", e => (string?)e["type"] == "member_added" && (string?)e["user"] == carol, "carol is told she was added");
        await alicePhone.SendAsync(conv, "m1", "welcome carol");
        var list = await carolPhone.CallAsync("conv.list");
        await carolPhone.CallAsync("conv.leave", new JsonObject { ["conv"] = conv });
        var after = await alicePhone.CallAsync("conv.get", new JsonObject { ["conv"] = conv });

        Assert.HasCount(3, added!["members"]!.AsArray());
        var entry = list!["conversations"]!.AsArray().Single(c => (string?)c!["conv"] == conv)!;
        Assert.AreEqual(1L, (long?)entry["lastSeq"]);
        Assert.AreEqual("group", (string?)entry["kind"]);
        Assert.HasCount(2, after!["members"]!.AsArray());
    }

    [TestMethod]
    public async Task Mqtt5RequestResponseIsHonoured()
    {
        var alice = await GatewayFixture.RegisterAsync();
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var message = new MqttApplicationMessageBuilder().WithTopic("rpc/contacts.list").WithPayload("{}")
            .WithResponseTopic($"u/{alice}/r/mine").WithCorrelationData([1, 2, 3])
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build();

        await phone.PublishAsync(message);

        await Eventually.TrueAsync(() => phone.All.Any(r => r.Topic == $"u/{alice}/r/mine" && r.Raw.CorrelationData is [1, 2, 3]), "reply on the response topic with the correlation data");
    }

    [TestMethod]
    public async Task StalledDeviceDoesNotHoldUpOthersAndLosesNothing()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var carolPhone = await GatewayFixture.ConnectAsync(carol, "phone");
        carolPhone.Acknowledge = false;
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob, carol);
        const int total = GatewayFixture.DeliveryWindow + 20; // more than a device may have outstanding

        for (var i = 0; i < total; i++)
            await alicePhone.SendPacedAsync(conv, $"m{i}", $"{i}");

        await Eventually.TrueAsync(() => bobPhone.Messages(conv).Count == total, "bob gets everything while carol stalls", 30_000);
        await Eventually.TrueAsync(() => carolPhone.Messages(conv).Count == GatewayFixture.DeliveryWindow, "carol gets the window's worth and no more");
        carolPhone.Abort();

        await using var carolAgain = await GatewayFixture.ConnectAsync(carol, "phone");
        await Eventually.TrueAsync(() => carolAgain.Messages(conv).Count == total, "after reconnecting carol gets everything, in order", 30_000);
        CollectionAssert.AreEqual(Enumerable.Range(1, total).Select(i => (long)i).ToArray(), carolAgain.Messages(conv).Select(m => (long)m["seq"]!).ToArray());
    }

    private static string Property(MqttClientPublishResult puback, string name) =>
        System.Text.Encoding.UTF8.GetString(puback.UserProperties.Single(p => p.Name == name).ValueBuffer.Span);
}
