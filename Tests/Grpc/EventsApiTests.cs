using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary><c>im.v1.Events</c>: the message feed, fed by MQTT and gRPC sends alike, resumable from a position.</summary>
[TestClass]
public sealed class EventsApiTests
{
    [TestMethod]
    public async Task MessageSentOverMqttShowsUpInTheEventStream()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        using var call = api.Events.Subscribe(new SubscribeRequest { Conversation = group });
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");

        var puback = await alicePhone.SendAsync(group, "over-mqtt", "hello from mqtt");

        Assert.IsTrue(puback.IsSuccess, puback.ReasonString);
        var e = await Streams.NextAsync(call.ResponseStream, "the MQTT message as an event");
        Assert.AreEqual(group, e.Message.Conversation);
        Assert.AreEqual(1, e.Message.Seq);
        Assert.AreEqual("over-mqtt", e.Message.ClientMessageId);
        Assert.AreEqual(alice, e.Message.FromUser);
        Assert.AreEqual("phone", e.Message.Device);
        Assert.AreEqual("hello from mqtt", e.Message.Body);
        Assert.IsTrue(e.Position > 0);
    }

    [TestMethod]
    public async Task StreamFromNowSkipsWhatWasAlreadyStored()
    {
        var api = await Api.SharedAsync();
        var alice = await api.NewUserAsync();
        var group = await api.NewGroupAsync(alice);
        await api.SendAsync(group, "old news", from: alice, id: "old");

        using var call = api.Events.Subscribe(new SubscribeRequest { FromNow = true, Conversation = group });
        await call.ResponseHeadersAsync; // sent once the stream has fixed its starting point
        await api.SendAsync(group, "fresh", from: alice, id: "new");

        var e = await Streams.NextAsync(call.ResponseStream, "the first event after subscribing");
        Assert.AreEqual("new", e.Message.ClientMessageId);
    }

    [TestMethod]
    public async Task ResumedStreamGetsExactlyTheRestWithNoGapAndNoRepeat()
    {
        var api = await Api.SharedAsync();
        var alice = await api.NewUserAsync();
        var group = await api.NewGroupAsync(alice);
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        for (var i = 1; i <= 6; i++)
            await api.SendAsync(group, $"event {i}", from: alice, id: $"e{i}");

        List<MessageEvent> firstRun;
        using (var cts = new CancellationTokenSource())
        {
            using var first = api.Events.Subscribe(new SubscribeRequest { Conversation = group }, cancellationToken: cts.Token);
            firstRun = await Streams.TakeAsync(first.ResponseStream, 3, "the first three events");
            // The consumer stops here (crash, deploy, ...) with more events already waiting.
            cts.Cancel();
        }
        var resumeAt = firstRun[^1].Position;
        using var resumed = api.Events.Subscribe(new SubscribeRequest { Conversation = group, AfterPosition = resumeAt });
        var backlog = await Streams.TakeAsync(resumed.ResponseStream, 3, "the three events after the last position");
        // New messages keep coming while the resumed stream is live, by both protocols.
        await alicePhone.SendAsync(group, "e7", "event 7");
        await api.SendAsync(group, "event 8", id: "e8");
        var live = await Streams.TakeAsync(resumed.ResponseStream, 2, "the live events");

        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, firstRun.Select(e => e.Message.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 4, 5, 6, 7, 8 }, backlog.Concat(live).Select(e => e.Message.Seq).ToArray(), "no gap, no repeat");
        var positions = firstRun.Concat(backlog).Concat(live).Select(e => e.Position).ToList();
        CollectionAssert.AreEqual(positions.Order().Distinct().ToList(), positions, "positions increase strictly");
        Assert.IsTrue(await Streams.StaysQuietAsync(resumed.ResponseStream, 1000), "nothing beyond the eight messages");
    }

    [TestMethod]
    public async Task UnfilteredStreamCarriesEveryConversationInPositionOrder()
    {
        var api = await Api.SharedAsync();
        var alice = await api.NewUserAsync();
        var (one, two) = (await api.NewGroupAsync(alice), await api.NewGroupAsync(alice));
        var start = (await api.SendAsync(one, "start", id: "start")).Message;
        var startPosition = await PositionOfAsync(api, one, start.Seq);

        using var call = api.Events.Subscribe(new SubscribeRequest { AfterPosition = startPosition });
        await api.SendAsync(two, "a", id: "a");
        await api.SendAsync(one, "b", id: "b");
        await api.SendAsync(two, "c", id: "c");

        // Other tests write to the same store meanwhile; keep only this test's conversations.
        var mine = new List<MessageEvent>();
        while (mine.Count < 3)
        {
            var e = await Streams.NextAsync(call.ResponseStream, "events of this test's conversations");
            if (e.Message.Conversation == one || e.Message.Conversation == two)
                mine.Add(e);
        }
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, mine.Select(e => e.Message.Body).ToArray(), "the order they were stored in");
        await Refused.WithAsync(StatusCode.InvalidArgument, async () =>
        {
            using var bad = api.Events.Subscribe(new SubscribeRequest { AfterPosition = -1 });
            await bad.ResponseStream.MoveNext();
        });
    }

    private static async Task<long> PositionOfAsync(Api api, string conversation, long seq)
    {
        using var call = api.Events.Subscribe(new SubscribeRequest { Conversation = conversation });
        while (true)
        {
            var e = await Streams.NextAsync(call.ResponseStream, $"{conversation}#{seq} in the feed");
            if (e.Message.Seq == seq)
                return e.Position;
        }
    }
}
