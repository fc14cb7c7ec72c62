using System.Diagnostics;
using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

/// <summary>What one logged-in user can make the grains do for others: typing fan-out is capped like read marks,
/// and a password check takes as long whether or not the account exists.</summary>
[TestClass]
public sealed class AbuseLimitTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    [TestMethod]
    public async Task TypingInAGroupAboveTheTypingCapReachesNobody()
    {
        var users = new List<string>();
        for (var i = 0; i < ClusterFixture.MaxGroupForTypingEvents + 1; i++)
            users.Add(await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, users[0], [.. users.Skip(1)]);
        var gw = TestGateway.Create(_grains);
        foreach (var u in users)
            await gw.ConnectAsync(_grains, u, "phone");

        await _grains.GetGrain<IConversationGrain>(id).TypingAsync(users[0], "phone");
        await _grains.GetGrain<IConversationGrain>(id).SendAsync(users[0], "phone", "after-typing", "later than the typing");

        foreach (var u in users.Skip(1)) // the message proves that anything sent before it had time to arrive
            await Eventually.TrueAsync(() => gw.Messages(u, "phone").Count == 1, $"{u} got the later message");
        foreach (var u in users.Skip(1))
            Assert.IsFalse(gw.Events(u, "phone").Any(e => e.Type == EventTypes.Typing), $"{u} heard typing in a group of {users.Count}");
    }

    [TestMethod]
    public async Task SyncPagesThroughEveryConversationWithinTheByteBound()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var direct = await Chat.NewDirectAsync(_grains, a, b);
        var group = await Chat.NewGroupAsync(_grains, c, a, b);
        var body = new string('ü', ClusterFixture.MaxBodyLength); // six bytes each on the wire
        for (var i = 1; i <= 6; i++)
        {
            await _grains.GetGrain<IConversationGrain>(direct).SendAsync(a, "phone", $"d{i}", body);
            await _grains.GetGrain<IConversationGrain>(group).SendAsync(c, "phone", $"g{i}", body);
        }
        await _grains.GetGrain<IConversationGrain>(group).SendAsync(b, "tablet", "own", "sent by this very device");

        var device = _grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "tablet"));
        var synced = new List<MessageRecord>();
        var pages = 0;
        string? next = null;
        do
        {
            var page = await device.SyncAsync(100, next);
            pages++;
            var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
                new System.Text.Json.Nodes.JsonArray(page.Messages.Select(m => (System.Text.Json.Nodes.JsonNode)ImOrleans.Gateway.Mqtt.Wire.Message(m)).ToArray()),
                ImOrleans.Gateway.Mqtt.Wire.Json).Length;
            Assert.IsTrue(page.Messages.Count == 1 || bytes <= ClusterFixture.MaxSyncBytes, $"page {pages}: {page.Messages.Count} messages in {bytes} bytes");
            Assert.IsNotEmpty(page.Messages, "every page moves on");
            synced.AddRange(page.Messages);
            next = page.Next;
        } while (next is not null && pages < 100);

        CollectionAssert.AreEquivalent(new[] { direct, group }.SelectMany(conv => Enumerable.Range(1, 6).Select(seq => (conv, (long)seq))).ToArray(),
            synced.Select(m => (m.Conversation, m.Seq)).ToArray(), "each message once, none of the device's own");
        foreach (var conv in new[] { direct, group })
            CollectionAssert.AreEqual(Enumerable.Range(1, 6).Select(i => (long)i).ToArray(), synced.Where(m => m.Conversation == conv).Select(m => m.Seq).ToArray());
        Assert.IsGreaterThan(2, pages, "twelve messages of about 600 bytes do not fit in 2000");
        await Chat.RefusedAsync(() => device.SyncAsync(100, "not a position"), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task PasswordCheckOfAnUnknownUserTakesAsLongAsAWrongPassword()
    {
        var known = await Chat.NewUserAsync(_grains);
        // Warm both paths (activation, storage read, JIT) before timing them.
        await _grains.GetGrain<IUserGrain>(known).VerifyPasswordAsync("warm up");
        await _grains.GetGrain<IUserGrain>(Unique.User("ghost")).VerifyPasswordAsync("warm up");

        var wrong = new List<TimeSpan>();
        var unknown = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            wrong.Add(await TimeAsync(() => _grains.GetGrain<IUserGrain>(known).VerifyPasswordAsync($"wrong {i}")));
            var ghost = _grains.GetGrain<IUserGrain>(Unique.User("ghost"));
            await ghost.IsActiveAsync(); // activated beforehand, so only the check itself is timed
            unknown.Add(await TimeAsync(() => ghost.VerifyPasswordAsync($"wrong {i}")));
        }

        // A slow hash takes tens of milliseconds; an early return a fraction of one. Medians resist the noise of a busy machine.
        var (wrongMedian, unknownMedian) = (wrong.Order().ElementAt(2), unknown.Order().ElementAt(2));
        Assert.IsGreaterThan(wrongMedian / 3, unknownMedian, $"unknown user {unknownMedian.TotalMilliseconds} ms, wrong password {wrongMedian.TotalMilliseconds} ms");
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task<bool>> check)
    {
        var clock = Stopwatch.StartNew();
        Assert.IsFalse(await check());
        return clock.Elapsed;
    }
}
