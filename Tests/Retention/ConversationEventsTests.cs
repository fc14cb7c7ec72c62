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

        static bool Added(JsonObject e, string conv) => (string?)e["type"] == "conv_added" && (string?)e["conv"] == conv;
        var bobDirect = await bobPhone.WaitForAsync("e", e => Added(e, direct), "conv_added for the direct conversation");
        await bobPhone.WaitForAsync("e", e => Added(e, group), "conv_added for the new group");
        var carolGroup = await carolPhone.WaitForAsync("e", e => Added(e, group), "conv_added when added to the group");
        await alicePhone.WaitForAsync("e", e => Added(e, group), "the creator's devices hear of it too");
        await bobPhone.WaitForAsync("e", e => (string?)e["type"] == "member_added" && (string?)e["user"] == carol, "bob hears carol was added");

        Assert.AreEqual(alice, (string?)bobDirect["by"]);
        Assert.AreEqual(alice, (string?)carolGroup["by"]);
        Assert.HasCount(1, bobPhone.Received("e").Where(e => Added(e, group)).ToList(), "members already in it get member_added, not conv_added");
        Assert.HasCount(1, carolPhone.Received("e").Where(e => (string?)e["type"] == "conv_added").ToList(), "carol is in one conversation");
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
