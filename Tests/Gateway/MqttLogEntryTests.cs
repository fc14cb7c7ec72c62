using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Gateway;

/// <summary>Replies, edits, deletes, reactions, mentions, search and erasure over real MQTT connections to the real
/// server process (docs/protocol.md §16): entries are published to <c>c/{conv}/m</c> and delivered like messages.</summary>
[TestClass]
public sealed class MqttLogEntryTests
{
    private static Task<MqttClientPublishResult> Post(MqttTestClient c, string conv, object entry) => c.PublishAsync($"c/{conv}/m", entry);

    /// <summary>The publish is refused with <paramref name="code"/>, in the error event that names its id.</summary>
    private static async Task RefusedAsync(MqttTestClient c, string conv, string id, object entry, string code)
    {
        var puback = await Post(c, conv, entry);
        Assert.IsFalse(puback.IsSuccess, $"{id} must be refused");
        var error = await c.WaitForAsync("e", e => (string?)e["type"] == "error" && (string?)e["ref"] == id, $"the error event of {id}");
        Assert.AreEqual(code, (string?)error["code"], (string?)error["message"]);
    }

    private static string Seq(MqttClientPublishResult puback) =>
        System.Text.Encoding.UTF8.GetString(puback.UserProperties.Single(p => p.Name == "seq").ValueBuffer.Span);

    private static async Task<JsonArray> History(MqttTestClient c, string conv) =>
        (await c.CallAsync("history", new JsonObject { ["conv"] = conv }))!["messages"]!.AsArray();

    [TestMethod]
    public async Task AReplyWithMentionsArrivesAsStructuredData()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var outsider = await GatewayFixture.RegisterAsync();
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await using var carolPhone = await GatewayFixture.ConnectAsync(carol, "phone", MqttProtocolVersion.V311);
        var group = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob, carol);
        await alicePhone.SendAsync(group, "m1", "who is in?");

        Assert.IsTrue((await Post(bobPhone, group, new { id = "m2", body = $"me and @{carol}", replyTo = 1, mentions = new[] { carol } })).IsSuccess);

        var reply = await alicePhone.WaitForAsync("m", m => (string?)m["id"] == "m2", "the reply");
        Assert.AreEqual(1L, (long?)reply["replyTo"]);
        Assert.AreEqual(carol, (string?)reply["mentions"]![0]);
        Assert.IsNull(reply["kind"], "a message has no kind");
        var atCarol = await carolPhone.WaitForAsync("m", m => (string?)m["id"] == "m2", "the reply on MQTT 3.1.1");
        Assert.AreEqual(carol, (string?)atCarol["mentions"]![0]);
        await RefusedAsync(bobPhone, group, "m3", new { id = "m3", body = "hi", mentions = new[] { outsider } }, ErrorCodes.BadRequest);
        await RefusedAsync(bobPhone, group, "m4", new { id = "m4", body = "re", replyTo = 42 }, ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task AnEditReachesEveryDeviceAndHistoryServesOnlyTheLatestTextMarkedEdited()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var aliceLaptop = await GatewayFixture.ConnectAsync(alice, "laptop");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "see you at 5");

        Assert.IsTrue((await Post(alicePhone, conv, new { id = "e1", kind = "edit", target = 1, body = "see you at 6" })).IsSuccess);

        foreach (var device in new[] { bobPhone, aliceLaptop })
        {
            var edit = await device.WaitForAsync("m", m => (string?)m["id"] == "e1", "the edit entry");
            Assert.AreEqual("edit", (string?)edit["kind"]);
            Assert.AreEqual(1L, (long?)edit["target"]);
            Assert.AreEqual(2L, (long?)edit["seq"], "an entry has its own seq");
            Assert.AreEqual("see you at 6", (string?)edit["body"]);
        }
        var history = await History(bobPhone, conv);
        Assert.AreEqual("see you at 6", (string?)history[0]!["body"]);
        Assert.AreEqual((long?)history[1]!["ts"], (long?)history[0]!["edited"]);
        Assert.IsFalse(history.ToJsonString().Contains("at 5", StringComparison.Ordinal), "the original text is not served");
    }

    [TestMethod]
    public async Task EditingOrDeletingSomeoneElsesMessageIsForbidden()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "alice's words");

        await RefusedAsync(bobPhone, conv, "e1", new { id = "e1", kind = "edit", target = 1, body = "bob's words" }, ErrorCodes.Forbidden);
        await RefusedAsync(bobPhone, conv, "d1", new { id = "d1", kind = "delete", target = 1 }, ErrorCodes.Forbidden);
        await RefusedAsync(bobPhone, conv, "d2", new { id = "d2", kind = "delete", target = 9 }, ErrorCodes.NotFound);
        await RefusedAsync(bobPhone, conv, "x1", new { id = "x1", kind = "erase", target = 1 }, ErrorCodes.BadPayload);

        Assert.AreEqual("alice's words", (string?)(await History(alicePhone, conv)).Single()!["body"]);
    }

    [TestMethod]
    public async Task ADeleteReachesTheMembersAndLeavesATombstoneInHistoryAndReplay()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await alicePhone.SendAsync(conv, "m1", "oops, my password is hunter2");
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "the message, live");
        await bobPhone.DisposeAsync();

        Assert.IsTrue((await Post(alicePhone, conv, new { id = "d1", kind = "delete", target = 1 })).IsSuccess);
        await alicePhone.SendAsync(conv, "m3", "never mind");
        await using var again = await GatewayFixture.ConnectAsync(bob, "phone");

        await Eventually.TrueAsync(() => again.Messages(conv).Count >= 2, "the delete and the next message, replayed");
        var replayed = again.Messages(conv);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, replayed.Select(m => (long)m["seq"]!).ToArray(), "in order, no gap");
        Assert.AreEqual("delete", (string?)replayed[0]["kind"]);
        Assert.AreEqual(1L, (long?)replayed[0]["target"]);
        var history = await History(again, conv);
        Assert.IsTrue((bool?)history[0]!["deleted"] == true);
        Assert.AreEqual("", (string?)history[0]!["body"]);
        Assert.IsFalse(history.ToJsonString().Contains("hunter2", StringComparison.Ordinal), "the text is gone");
    }

    [TestMethod]
    public async Task ReactionsAreOnePerUserPerEmojiAndCountedInHistory()
    {
        var (alice, bob, carol) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        await using var carolPhone = await GatewayFixture.ConnectAsync(carol, "phone", MqttProtocolVersion.V311);
        var group = await GatewayFixture.CreateConversationAsync(alicePhone, "group", bob, carol);
        await alicePhone.SendAsync(group, "m1", "we shipped!");

        Assert.IsTrue((await Post(bobPhone, group, new { id = "r1", kind = "react", target = 1, emoji = "🎉" })).IsSuccess);
        Assert.IsTrue((await Post(carolPhone, group, new { id = "r1", kind = "react", target = 1, emoji = "🎉" })).IsSuccess);
        Assert.IsTrue((await Post(carolPhone, group, new { id = "r2", kind = "react", target = 1, emoji = "👍" })).IsSuccess);
        Assert.IsTrue((await Post(carolPhone, group, new { id = "r3", kind = "unreact", target = 1, emoji = "👍" })).IsSuccess);
        await RefusedAsync(bobPhone, group, "r4", new { id = "r4", kind = "react", target = 1, emoji = "🎉" }, ErrorCodes.AlreadyExists);
        await RefusedAsync(bobPhone, group, "r5", new { id = "r5", kind = "react", target = 1, emoji = "yay" }, ErrorCodes.BadRequest);
        await RefusedAsync(bobPhone, group, "r6", new { id = "r6", kind = "react", target = 77, emoji = "🎉" }, ErrorCodes.NotFound);

        var live = await alicePhone.WaitForAsync("m", m => (string?)m["kind"] == "unreact", "the unreact entry");
        Assert.AreEqual("👍", (string?)live["emoji"]);
        Assert.AreEqual(carol, (string?)live["from"]);
        var reactions = (await History(alicePhone, group))[0]!["reactions"]!.AsObject();
        Assert.HasCount(1, reactions);
        CollectionAssert.AreEqual(new[] { bob, carol }, reactions["🎉"]!.AsArray().Select(u => (string)u!).ToArray(), "two 🎉: bob and carol");
    }

    [TestMethod]
    public async Task ReactingWhereNotAMemberIsRefused()
    {
        var (alice, bob, eve) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var evePhone = await GatewayFixture.ConnectAsync(eve, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "private");

        await RefusedAsync(evePhone, conv, "r1", new { id = "r1", kind = "react", target = 1, emoji = "👀" }, ErrorCodes.NotMember);
    }

    [TestMethod]
    public async Task ARetriedEditWithTheSameIdStoresOneEntry()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "typo");

        var first = await Post(alicePhone, conv, new { id = "e1", kind = "edit", target = 1, body = "fixed" });
        var retry = await Post(alicePhone, conv, new { id = "e1", kind = "edit", target = 1, body = "fixed" });

        Assert.IsTrue(first.IsSuccess && retry.IsSuccess);
        Assert.AreEqual(Seq(first), Seq(retry), "the retry gets the seq of the first");
        Assert.HasCount(2, await History(alicePhone, conv));
    }

    [TestMethod]
    public async Task SearchFindsMessagesOfOneConversationForMembersOnly()
    {
        var (alice, bob, eve) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var evePhone = await GatewayFixture.ConnectAsync(eve, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "the blue kayak");
        await alicePhone.SendAsync(conv, "m2", "the red canoe");
        await alicePhone.SendAsync(conv, "m3", "another kayak trip");
        await Post(alicePhone, conv, new { id = "d3", kind = "delete", target = 3 });

        var found = await alicePhone.CallAsync("history.search", new JsonObject { ["conv"] = conv, ["q"] = "Kayak" });

        var messages = found!["messages"]!.AsArray();
        Assert.AreEqual(1L, (long?)messages.Single()!["seq"], "the deleted message is not found");
        Assert.AreEqual("the blue kayak", (string?)messages[0]!["body"]);
        var refused = await evePhone.RpcAsync("history.search", new JsonObject { ["conv"] = conv, ["q"] = "kayak" });
        Assert.AreEqual(ErrorCodes.NotMember, (string?)refused["error"]!["code"]);
        var empty = await alicePhone.RpcAsync("history.search", new JsonObject { ["conv"] = conv, ["q"] = " " });
        Assert.AreEqual(ErrorCodes.BadRequest, (string?)empty["error"]!["code"]);
    }

    [TestMethod]
    public async Task AUserErasesItsAccountWithItsPasswordAndItsMessagesBecomeTombstones()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
        await alicePhone.SendAsync(conv, "m1", "my home address");
        await bobPhone.SendAsync(conv, "m2", "noted");

        var wrong = await alicePhone.RpcAsync("account.erase", new JsonObject { ["password"] = "not the password" });
        Assert.AreEqual(ErrorCodes.Forbidden, (string?)wrong["error"]!["code"]);
        // QoS 0: the erasure ends the session, possibly before a PUBACK (or the reply) could reach the client.
        await alicePhone.PublishRawAsync("rpc/account.erase", new JsonObject { ["rid"] = "bye", ["password"] = Chat.Password }.ToJsonString(),
            MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce);

        var erase = await bobPhone.WaitForAsync("m", m => (string?)m["kind"] == "erase", "the erase entry");
        Assert.AreEqual(alice, (string?)erase["from"]);
        Assert.AreEqual(3L, (long?)erase["seq"]);
        await Eventually.TrueAsync(() => !alicePhone.IsConnected, "alice's session ends");
        var history = await History(bobPhone, conv);
        Assert.IsTrue((bool?)history[0]!["deleted"] == true);
        Assert.AreEqual("noted", (string?)history[1]!["body"]);
        Assert.IsFalse(history.ToJsonString().Contains("address", StringComparison.Ordinal));
        var silo = await GatewayFixture.SiloAsync();
        await using var login = await MqttTestClient.ConnectAsync(silo.MqttPort, alice, "phone", Chat.Password, subscribe: false);
        Assert.AreNotEqual(MqttClientConnectResultCode.Success, login.ConnectResult.ResultCode, "the account is gone");
        var register = await GatewayFixture.Http.PostAsJsonAsync($"{silo.HttpBase}/v1/auth/register", new { user = alice, password = Chat.Password });
        Assert.AreEqual(System.Net.HttpStatusCode.Conflict, register.StatusCode, "nobody inherits the erased id");
        await alicePhone.DisposeAsync();
    }
}
