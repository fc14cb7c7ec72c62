using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Gateway;

/// <summary><c>sync.delta</c> over real MQTT: a device that was away learns what changed besides messages.</summary>
[TestClass]
public sealed class MqttSyncDeltaTests
{
    [TestMethod]
    public async Task ADeviceThatWasAwayLearnsReadMarksNewConversationsAndRemovals()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var direct = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        var old = await GatewayFixture.CreateConversationAsync(bobPhone, "group", alice);
        await alicePhone.SendAsync(direct, "m1", "hi bob");
        var first = await alicePhone.CallAsync("sync.delta");
        var token = (string)first!["token"]!;
        Assert.HasCount(2, first["conversations"]!.AsArray(), "without a token: every conversation");
        await alicePhone.DisposeAsync();

        await bobPhone.PublishAsync($"c/{direct}/r", new { seq = 1 });
        var created = await GatewayFixture.CreateConversationAsync(bobPhone, "group", alice, carol);
        await bobPhone.CallAsync("conv.remove", new JsonObject { ["conv"] = old, ["members"] = new JsonArray(alice) });
        await using var again = await GatewayFixture.ConnectAsync(alice, "phone");
        var delta = await again.CallAsync("sync.delta", new JsonObject { ["token"] = token });

        var conversations = delta!["conversations"]!.AsArray().Select(c => c!.AsObject()).ToList();
        var read = conversations.Single(c => (string?)c["conv"] == direct);
        Assert.AreEqual(1L, (long?)read["reads"]![bob], "bob read alice's message while she was away");
        Assert.IsTrue(conversations.Any(c => (string?)c["conv"] == created), "the group she was added to");
        CollectionAssert.AreEqual(new[] { old }, delta["removed"]!.AsArray().Select(c => (string)c!).ToArray());
        Assert.AreNotEqual(token, (string?)delta["token"]);
        var bad = await again.RpcAsync("sync.delta", new JsonObject { ["token"] = "yesterday" });
        Assert.AreEqual(ErrorCodes.BadRequest, (string?)bad["error"]!["code"]);
    }
}
