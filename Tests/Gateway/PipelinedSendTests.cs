using System.Text;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Gateway;

/// <summary>A client that publishes its messages without waiting for each PUBACK: the gateway reads on while earlier
/// ones are stored, and must still store them in the order sent, acknowledge each with its own outcome, in order, and
/// let nothing published after them overtake them.</summary>
[TestClass]
public sealed class PipelinedSendTests
{
    private const int Count = 30; // within GatewayFixture.RateBurst

    [TestMethod]
    [DataRow(MqttProtocolVersion.V500)]
    [DataRow(MqttProtocolVersion.V311)]
    public async Task MessagesSentWithoutWaitingAreStoredInTheOrderSent(MqttProtocolVersion version)
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone", version);
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        // Issued one after the other without awaiting: the client sends them in this order, all in flight at once.
        var pubacks = await Task.WhenAll(Enumerable.Range(0, Count).Select(i => alicePhone.SendAsync(conv, $"m{i}", $"body {i}")).ToList());

        Assert.IsTrue(pubacks.All(p => p.IsSuccess), string.Join(",", pubacks.Select(p => p.ReasonCode)));
        await Eventually.TrueAsync(() => bobPhone.Messages(conv).Count == Count, "bob gets them all");
        var atBob = bobPhone.Messages(conv);
        CollectionAssert.AreEqual(Enumerable.Range(0, Count).Select(i => $"m{i}@{i + 1}").ToArray(),
            atBob.Select(m => $"{m["id"]}@{m["seq"]}").ToArray(), "stored in the order sent, with no gap");
        if (version == MqttProtocolVersion.V500)
        {
            CollectionAssert.AreEqual(Enumerable.Range(1, Count).Select(i => i.ToString()).ToArray(),
                pubacks.Select(p => Seq(p)).ToArray(), "each PUBACK carries its own message's seq");
        }
        else
        {
            await Eventually.TrueAsync(() => alicePhone.Received("e").Count(e => (string?)e["type"] == "sent") == Count, "a sent event for each");
            CollectionAssert.AreEquivalent(Enumerable.Range(1, Count).Select(i => (long)i).ToArray(),
                alicePhone.Received("e").Where(e => (string?)e["type"] == "sent").Select(e => (long)e["seq"]!).ToArray());
        }
    }

    [TestMethod]
    public async Task ARefusedMessageAmongThemIsRefusedAloneAndLeavesNoGap()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        var sends = Enumerable.Range(0, 10).Select(i => i == 4
            ? alicePhone.PublishAsync($"c/{conv}/m", new { id = "m4", body = "a reply to nothing", replyTo = 999 })
            : alicePhone.SendAsync(conv, $"m{i}", $"body {i}")).ToList();
        var pubacks = await Task.WhenAll(sends);

        Assert.IsFalse(pubacks[4].IsSuccess, "the reply to a message that does not exist is refused");
        Assert.IsTrue(pubacks.Where((_, i) => i != 4).All(p => p.IsSuccess));
        await alicePhone.WaitForAsync("e", e => (string?)e["type"] == "error" && (string?)e["ref"] == "m4", "an error event names it");
        CollectionAssert.AreEqual(new[] { "1", "2", "3", "4", "5", "6", "7", "8", "9" }, pubacks.Where((_, i) => i != 4).Select(Seq).ToArray());
    }

    [TestMethod]
    public async Task AnEditPublishedRightAfterItsMessageFindsIt()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        var sends = Enumerable.Range(1, 5).Select(i => alicePhone.SendAsync(conv, $"m{i}", $"draft {i}")).ToList();
        var edit = alicePhone.PublishAsync($"c/{conv}/m", new { id = "e5", kind = "edit", target = 5, body = "final" });
        await Task.WhenAll(sends);

        Assert.IsTrue((await edit).IsSuccess, (await edit).ReasonString);
        var history = await bobPhone.CallAsync("history", new() { ["conv"] = conv });
        Assert.Contains("\"final\"", history!.ToJsonString(), "the edit applied to message 5, stored before it");
    }

    private static string Seq(MqttClientPublishResult p) =>
        p.UserProperties?.FirstOrDefault(u => u.Name == "seq") is { } seq ? Encoding.UTF8.GetString(seq.ValueBuffer.Span) : "";
}
