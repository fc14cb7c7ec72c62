using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Retention;

/// <summary>conv_added events and the conv.retention RPC over real MQTT against the shared embedded server.</summary>
[TestClass]
public sealed class ConversationEventsTests
{
    [TestMethod]
    public async Task MembersHearOfAConversationWhenItIsCreatedOrTheyAreAdded()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync("ev"), await GatewayFixture.RegisterAsync("ev"), await GatewayFixture.RegisterAsync("ev"));
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await using var carolPhone = await GatewayFixture.ConnectAsync(carol, "phone");

        var direct = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        var group = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob);
        await alicePhone.CallAsync("conv.add", new JsonObject { ["conv"] = group, ["members"] = new JsonArray(carol) });

        bool Added(JsonObject e, string conv, string user) => (string?)e["type"] == "conv_added" && (string?)e["conv"] == conv && (string?)e["user"] == user;
        var bobDirect = await bobPhone.WaitForAsync("e", e => Added(e, direct, bob), "conv_added for the direct conversation");
        await bobPhone.WaitForAsync("e", e => Added(e, group, bob), "conv_added for the new group");
        var carolGroup = await carolPhone.WaitForAsync("e", e => Added(e, group, carol), "conv_added when added to the group");
        await alicePhone.WaitForAsync("e", e => Added(e, group, alice), "the creator's other devices hear of it too");

        Assert.AreEqual(alice, (string?)bobDirect["by"]);
        Assert.AreEqual(alice, (string?)carolGroup["by"]);
        Assert.IsFalse(bobPhone.Received("e").Any(e => (string?)e["type"] == "conv_added" && (string?)e["user"] != bob), "each hears only of itself");
    }

    [TestMethod]
    public async Task GroupAdminsSetRetentionAndPlainMembersAreRefused()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync("ev"), await GatewayFixture.RegisterAsync("ev"));
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var group = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob);
        var direct = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        var set = await alicePhone.CallAsync("conv.retention", new JsonObject { ["conv"] = group, ["days"] = 30 });
        var cleared = await alicePhone.CallAsync("conv.retention", new JsonObject { ["conv"] = group, ["days"] = null });
        var byMember = await bobPhone.RpcAsync("conv.retention", new JsonObject { ["conv"] = group, ["days"] = 1 });
        var zero = await alicePhone.RpcAsync("conv.retention", new JsonObject { ["conv"] = group, ["days"] = 0 });
        var inDirect = await alicePhone.RpcAsync("conv.retention", new JsonObject { ["conv"] = direct, ["days"] = 1 });

        Assert.AreEqual(30, (int)set!["days"]!);
        Assert.IsNull(cleared!["days"]);
        Assert.AreEqual("forbidden", (string?)byMember["error"]!["code"]);
        Assert.AreEqual("bad_request", (string?)zero["error"]!["code"]);
        Assert.AreEqual("bad_request", (string?)inDirect["error"]!["code"], "a direct conversation's retention is the operator's");
    }
}
