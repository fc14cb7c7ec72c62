using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class DeliveryTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IConversationGrain Conv(string id) => _grains.GetGrain<IConversationGrain>(id);
    private static IDeviceGrain Device(string user, string device) => _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(user, device));

    [TestMethod]
    public async Task EveryMemberDeviceGetsTheMessageButTheSendingOne()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, a, "laptop");
        await gw.ConnectAsync(_grains, b, "phone");

        var sent = await Conv(id).SendAsync(a, "phone", "m1", "hello");

        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1, "b's phone gets the message");
        await Eventually.TrueAsync(() => gw.Messages(a, "laptop").Count == 1, "a's other device gets a copy");
        Assert.AreEqual(sent.Message, gw.Messages(b, "phone")[0]);
        Assert.IsEmpty(gw.Messages(a, "phone"), "the sending device gets no copy");
    }

    [TestMethod]
    public async Task ALiveMessageForAConnectionNotBoundYetWaitsForItsBind()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "laptop"); // a's messages now come to this gateway
        await Conv(id).SendAsync(b, "phone", "m1", "1");
        await Conv(id).SendAsync(b, "phone", "m2", "2");

        // As after an MQTT CONNECT: the gateway knows a's phone before its device grain has bound it, and a live message
        // for a arrives in between (through the laptop's route).
        await gw.ConnectAsync(_grains, a, "phone", beforeBind: async () =>
        {
            await Conv(id).SendAsync(b, "phone", "m3", "3");
            await Eventually.TrueAsync(() => gw.Messages(a, "laptop").Count == 3, "the live message reached the gateway");
            await Task.Delay(300);
            Assert.IsEmpty(gw.Messages(a, "phone"), "nothing is read for a connection before its bind");
        });

        await Eventually.TrueAsync(() => gw.Messages(a, "phone").Count == 3, "the bound phone gets all three");
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, gw.Messages(a, "phone").Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task GroupMessagesArriveInSeqOrderOnEveryDevice()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b, c);
        var gw = TestGateway.Create(_grains);
        foreach (var u in new[] { a, b, c })
            await gw.ConnectAsync(_grains, u, "phone");

        await Task.WhenAll(Enumerable.Range(1, 30).Select(i => Conv(id).SendAsync(i % 2 == 0 ? a : b, "tablet", $"m{i}", $"{i}")));

        foreach (var u in new[] { a, b, c })
        {
            await Eventually.TrueAsync(() => gw.Messages(u, "phone").Count == 30, $"{u} gets all 30");
            CollectionAssert.AreEqual(Enumerable.Range(1, 30).Select(i => (long)i).ToArray(), gw.Messages(u, "phone").Select(m => m.Seq).ToArray());
        }
    }

    [TestMethod]
    public async Task ReconnectingDeviceGetsWhatItMissedInOrderThenLiveTraffic()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var first = TestGateway.Create(_grains);
        await first.ConnectAsync(_grains, b, "phone", "conn-1");
        await Conv(id).SendAsync(a, "phone", "m1", "one");
        await Conv(id).SendAsync(a, "phone", "m2", "two");
        await Eventually.TrueAsync(() => first.Messages(b, "phone").Count == 2, "first two delivered");
        await Device(b, "phone").AckAsync(id, 1);
        await Device(b, "phone").AckAsync(id, 2);
        await Device(b, "phone").DisconnectAsync("conn-1");

        for (var i = 3; i <= 7; i++)
            await Conv(id).SendAsync(a, "phone", $"m{i}", $"missed {i}");
        var second = TestGateway.Create(_grains);
        var connecting = second.ConnectAsync(_grains, b, "phone", "conn-2");
        // Sends racing the replay must neither be lost nor overtake it.
        var racing = Task.WhenAll(Enumerable.Range(8, 5).Select(i => Conv(id).SendAsync(a, "phone", $"m{i}", $"live {i}")));
        await connecting;
        await racing;

        await Eventually.TrueAsync(() => second.Messages(b, "phone").Count >= 10, "missed and live messages delivered");
        CollectionAssert.AreEqual(Enumerable.Range(3, 10).Select(i => (long)i).ToArray(),
            second.Messages(b, "phone").Select(m => m.Seq).ToArray());
        Assert.AreEqual(2, (await Device(b, "phone").GetCursorsAsync())[id]);
    }

    [TestMethod]
    public async Task NewerConnectionSupersedesTheOldOneOnAnotherGateway()
    {
        var user = await Chat.NewUserAsync(_grains);
        var (wifi, lte) = (TestGateway.Create(_grains), TestGateway.Create(_grains));
        await wifi.ConnectAsync(_grains, user, "phone", "over-wifi");

        await lte.ConnectAsync(_grains, user, "phone", "over-lte");

        var device = Device(user, "phone");
        await Eventually.TrueAsync(() => wifi.Closed.Contains(Ids.DeviceKey(user, "phone")), "the old gateway is told to drop its connection");
        Assert.AreEqual(LeaseStatus.Superseded, await device.TouchAsync("over-wifi"), "the old gateway must not take the device back");
        Assert.AreEqual(LeaseStatus.Current, await device.TouchAsync("over-lte"));
    }

    [TestMethod]
    public async Task UnacknowledgedMessagesAreDeliveredAgainAfterReconnect()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var first = TestGateway.Create(_grains);
        await first.ConnectAsync(_grains, b, "phone", "c1");
        await Conv(id).SendAsync(a, "phone", "m1", "one");
        await Eventually.TrueAsync(() => first.Messages(b, "phone").Count == 1, "delivered once");
        await Device(b, "phone").DisconnectAsync("c1");

        var second = TestGateway.Create(_grains);
        await second.ConnectAsync(_grains, b, "phone", "c2");

        Assert.AreEqual(1, second.Messages(b, "phone").Single().Seq, "no ack, so it comes again with the same seq");
    }

    [TestMethod]
    public async Task SyncReturnsEverythingAfterTheCursors()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        for (var i = 1; i <= 4; i++)
            await Conv(id).SendAsync(a, "phone", $"m{i}", $"{i}");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 4, "all delivered");
        await Device(b, "phone").AckAsync(id, 3);

        var pending = (await Device(b, "phone").SyncAsync(100)).Messages;

        Assert.AreEqual(4, pending.Single().Seq);
    }

    [TestMethod]
    public async Task StaleAckDoesNotMoveTheCursorBack()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        for (var i = 1; i <= 3; i++)
            await Conv(id).SendAsync(a, "phone", $"m{i}", $"{i}");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 3, "delivered");

        await Device(b, "phone").AckAsync(id, 3);
        await Device(b, "phone").AckAsync(id, 2); // e.g. from an older connection's late batch

        Assert.AreEqual(3, (await Device(b, "phone").GetCursorsAsync())[id]);
    }

    [TestMethod]
    public async Task ConversationHandsAMessageToAGatewayOnceForAllItsDevices()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, a, "laptop");
        await gw.ConnectAsync(_grains, b, "phone");
        await gw.ConnectAsync(_grains, b, "tablet");

        await Conv(id).SendAsync(a, "phone", "m1", "hello");

        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1 && gw.Messages(b, "tablet").Count == 1
            && gw.Messages(a, "laptop").Count == 1, "three devices get it");
        Assert.AreEqual(1, gw.DeliverCalls, "one call to the gateway, not one per device or user");
    }

    [TestMethod]
    public async Task MessagesPostedTogetherReachAGatewayInOneCallAndInOrder()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        await gw.ConnectAsync(_grains, b, "tablet");

        await Conv(id).PostManyAsync(a, "phone", [.. Enumerable.Range(1, 5).Select(i => new NewMessage($"m{i}", EntryRequest.Message($"{i}")))]);

        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 5 && gw.Messages(b, "tablet").Count == 5, "both devices get all five");
        Assert.AreEqual("1,2,3,4,5", string.Join(",", gw.Messages(b, "tablet").Select(m => m.Seq)));
        Assert.AreEqual(1, gw.DeliverCalls, "one call for the five messages, not one per message");
    }

    [TestMethod]
    public async Task LiveMessageLostOnTheWayIsReadFromTheStoreWhenTheNextOneShowsTheGap()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        await Conv(id).SendAsync(a, "phone", "m1", "one");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1, "the first one");
        gw.LoseLive = m => m.Seq is 2 or 3;

        for (var i = 2; i <= 4; i++)
            await Conv(id).SendAsync(a, "phone", $"m{i}", $"{i}");

        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 4, "all four, the lost ones from the store");
        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4 }, gw.Messages(b, "phone").Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task CatchUpThatFailsIsTriedAgainWithoutWaitingForTheNextMessage()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        await Conv(id).SendAsync(a, "phone", "m1", "one");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1, "the first one");
        // The second is lost on the way; the third shows the gap, and the read that should fill it fails.
        gw.LoseLive = m => m.Seq == 2;
        FaultyMessageStore.FailNextRead(id);

        await Conv(id).SendAsync(a, "phone", "m2", "two");
        await Conv(id).SendAsync(a, "phone", "m3", "three");

        // No fourth message comes to show the gap again: the connection must retry by itself.
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 3, "the missing two, read again after the failure", 10_000);
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, gw.Messages(b, "phone").Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task RouteThatReachesTheConversationLateStillBringsWhatWasSaidMeanwhile()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var first = TestGateway.Create(_grains);
        await first.ConnectAsync(_grains, a, "phone");
        await Conv(id).SendAsync(a, "phone", "m1", "one");

        // b connects through a gateway the conversation has not heard of yet (the notice is slow), and has read the store.
        var late = TestGateway.Create(_grains);
        await late.AttachWithoutTellingAsync(_grains, b, "phone");
        await Eventually.TrueAsync(() => late.Messages(b, "phone").Count == 1, "what was stored before it attached");
        // Said after b read the store and before the conversation knew where b is: handed to no gateway of b's.
        await Conv(id).SendAsync(a, "phone", "m2", "two");
        await Task.Delay(300);
        Assert.HasCount(1, late.Messages(b, "phone"), "the conversation did not know where b is");

        // The notice arrives; nothing more is said.
        await Conv(id).SetRouteAsync(b, new MemberRoute(DateTime.UtcNow.Ticks * 2, [late.Reference], false));

        await Eventually.TrueAsync(() => late.Messages(b, "phone").Count == 2, "what was said meanwhile", 10_000);
        CollectionAssert.AreEqual(new long[] { 1, 2 }, late.Messages(b, "phone").Select(m => m.Seq).ToArray());
    }

    [TestMethod]
    public async Task NewMemberDevicesStartAtTheirJoinNotAtTheBeginning()
    {
        var (owner, late) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, owner);
        for (var i = 1; i <= 3; i++)
            await Conv(id).SendAsync(owner, "phone", $"m{i}", "before you came");
        await Conv(id).AddMembersAsync(owner, [late]);
        await Conv(id).SendAsync(owner, "phone", "m4", "welcome");

        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, late, "phone");

        Assert.AreEqual(4, gw.Messages(late, "phone").Single().Seq);
        Assert.HasCount(4, await Conv(id).HistoryAsync(late, new HistoryQuery()), "history stays readable");
    }

    [TestMethod]
    public async Task ReAddedMemberIsNotSentWhatWasSaidWhileItWasAway()
    {
        var (owner, member) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, owner, member);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, member, "phone");
        await Conv(id).SendAsync(owner, "phone", "m1", "before");
        await Eventually.TrueAsync(() => gw.Messages(member, "phone").Count == 1, "the message before the removal");

        await Conv(id).RemoveMembersAsync(owner, [member]);
        await Conv(id).SendAsync(owner, "phone", "m2", "while you were away");
        await Conv(id).SendAsync(owner, "phone", "m3", "while you were away");
        await Conv(id).AddMembersAsync(owner, [member]);
        await Conv(id).SendAsync(owner, "phone", "m4", "welcome back");

        await Eventually.TrueAsync(() => gw.Messages(member, "phone").Any(m => m.Seq == 4), "the message after the re-add");
        CollectionAssert.AreEqual(new long[] { 1, 4 }, gw.Messages(member, "phone").Select(m => m.Seq).ToArray(),
            "delivery starts again at the join point");
    }

    [TestMethod]
    public async Task ListEntryWithoutMembershipReplaysAndSyncsNothing()
    {
        var (a, b, outsider) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        await Conv(id).SendAsync(a, "phone", "m1", "private");
        await Conv(id).SendAsync(b, "phone", "m2", "private too");
        // What a crash between a join's list write and the conversation's own write (or a failed rollback) leaves.
        await _grains.GetGrain<IUserGrain>(outsider).SetMembershipAsync(id, true, 0, outsider);

        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, outsider, "phone"); // returns once the replay is handed to the gateway

        Assert.IsEmpty(gw.Messages(outsider, "phone"), "replay");
        Assert.IsEmpty((await Device(outsider, "phone").SyncAsync(10)).Messages, "sync");
    }

    [TestMethod]
    public async Task ReadMarksReachTheOtherMembersAndTheReadersOtherDevices()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, b, "phone");
        await gw.ConnectAsync(_grains, b, "laptop");
        await Conv(id).SendAsync(a, "phone", "m1", "hi");

        await Conv(id).MarkReadAsync(b, "phone", 1);

        var expected = new ConversationEvent(EventTypes.Read, id, b, 1);
        await Eventually.TrueAsync(() => gw.Events(a, "phone").Contains(expected), "a sees b's read mark");
        await Eventually.TrueAsync(() => gw.Events(b, "laptop").Contains(expected), "b's other device sees it");
        Assert.DoesNotContain(expected, gw.Events(b, "phone"));
    }

    [TestMethod]
    public async Task InABigGroupReadMarksAreListedNotBroadcast()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b, c); // 3 members: more than MaxGroupForReadEvents
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, b, "phone");
        await gw.ConnectAsync(_grains, b, "laptop");
        await Conv(id).SendAsync(a, "phone", "m1", "hi all");

        await Conv(id).MarkReadAsync(b, "phone", 1);
        await Conv(id).TypingAsync(b, "phone"); // a later event to a, proving the read event was not just slow

        var read = new ConversationEvent(EventTypes.Read, id, b, 1);
        await Eventually.TrueAsync(() => gw.Events(b, "laptop").Contains(read), "the reader's other device hears of it");
        await Eventually.TrueAsync(() => gw.Events(a, "phone").Any(e => e.Type == EventTypes.Typing), "a later event reached a");
        Assert.DoesNotContain(read, gw.Events(a, "phone"));
        Assert.AreEqual(1, (await Conv(id).GetReadMarksAsync(a))[b]);
        await Chat.RefusedAsync(() => Conv(id).GetReadMarksAsync(Unique.User()), ErrorCodes.NotMember);
    }

    [TestMethod]
    public async Task AckedMessageGivesTheSenderADeliveredMark()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, a, "phone");
        await gw.ConnectAsync(_grains, b, "phone");
        await Conv(id).SendAsync(a, "phone", "m1", "hi");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1, "delivered");

        await Device(b, "phone").AckAsync(id, 1);

        await Eventually.TrueAsync(() => gw.Events(a, "phone").Contains(new ConversationEvent(EventTypes.Delivered, id, b, 1)), "a sees delivered");
    }

    [TestMethod]
    public async Task TypingReachesOthersOnly()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b, c);
        var gw = TestGateway.Create(_grains);
        foreach (var u in new[] { a, b, c })
            await gw.ConnectAsync(_grains, u, "phone");

        await Conv(id).TypingAsync(a, "phone");

        var typing = new ConversationEvent(EventTypes.Typing, id, a);
        await Eventually.TrueAsync(() => gw.Events(b, "phone").Contains(typing) && gw.Events(c, "phone").Contains(typing), "b and c see a typing");
        Assert.DoesNotContain(typing, gw.Events(a, "phone"));
    }

    [TestMethod]
    public async Task MembershipChangesAreAnnounced()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b);
        var gw = TestGateway.Create(_grains);
        await gw.ConnectAsync(_grains, b, "phone");
        await gw.ConnectAsync(_grains, c, "phone");

        await Conv(id).AddMembersAsync(a, [c]);
        await Conv(id).RemoveMembersAsync(a, [b]);

        await Eventually.TrueAsync(() => gw.Events(b, "phone").Contains(new ConversationEvent(EventTypes.MemberAdded, id, c, By: a)), "b sees c added");
        await Eventually.TrueAsync(() => gw.Events(c, "phone").Contains(new ConversationEvent(EventTypes.MemberRemoved, id, b, By: a)), "c sees b removed");
        await Eventually.TrueAsync(() => gw.Events(b, "phone").Contains(new ConversationEvent(EventTypes.MemberRemoved, id, b, By: a)), "b is told it was removed");
    }

    [TestMethod]
    public async Task InABigGroupMembershipChangesReachOnlyThoseConcerned()
    {
        // Adding 100 users to a group of 1 000 would otherwise make 100 000 events at once.
        var (a, b, c, d) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b, c); // 3 members, 4 with d: more than MaxGroupForMemberEvents
        var gw = TestGateway.Create(_grains);
        foreach (var u in new[] { a, b, d })
            await gw.ConnectAsync(_grains, u, "phone");

        await Conv(id).AddMembersAsync(a, [d]);
        await Conv(id).RemoveMembersAsync(a, [d]);
        await Conv(id).SendAsync(a, "phone", "m1", "later"); // reaches b after the events would have

        var added = new ConversationEvent(EventTypes.MemberAdded, id, d, By: a);
        var removed = new ConversationEvent(EventTypes.MemberRemoved, id, d, By: a);
        await Eventually.TrueAsync(() => gw.Events(d, "phone").Contains(added) && gw.Events(d, "phone").Contains(removed), "d hears of both");
        await Eventually.TrueAsync(() => gw.Events(a, "phone").Contains(added) && gw.Events(a, "phone").Contains(removed), "a, who made them, too");
        await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 1, "a later message reached b");
        Assert.DoesNotContain(added, gw.Events(b, "phone"));
        Assert.DoesNotContain(removed, gw.Events(b, "phone"));
    }
}

[TestClass]
public sealed class DeliveryWindowTests
{
    [TestMethod]
    public async Task LongBacklogIsPacedByAcksAndArrivesWhole()
    {
        var grains = await ClusterFixture.ClientAsync();
        var (a, b) = (await Chat.NewUserAsync(grains), await Chat.NewUserAsync(grains));
        var id = await Chat.NewDirectAsync(grains, a, b);
        var backlog = ClusterFixture.DeliveryWindow * 2 + 100;
        await Task.WhenAll(Enumerable.Range(1, backlog).Select(i => grains.GetGrain<IConversationGrain>(id).SendAsync(a, "phone", $"m{i}", $"{i}")));

        var gw = TestGateway.Create(grains);
        await gw.ConnectAsync(grains, b, "phone");
        var device = grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "phone"));
        var acked = 0;
        while (acked < backlog)
        {
            await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count > acked, $"more deliveries after {acked} acks");
            var received = gw.Messages(b, "phone");
            Assert.IsLessThanOrEqualTo(ClusterFixture.DeliveryWindow, received.Count - acked, "never more unacknowledged than the window");
            foreach (var m in received.Skip(acked))
            {
                gw.Acknowledge(b, "phone");
                await device.AckAsync(m.Conversation, m.Seq);
            }
            acked = received.Count;
        }

        CollectionAssert.AreEqual(Enumerable.Range(1, backlog).Select(i => (long)i).ToArray(), gw.Messages(b, "phone").Select(m => m.Seq).ToArray());
    }
}
