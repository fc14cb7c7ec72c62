using System.Text.Json.Nodes;
using ImOrleans.Gateway.Mqtt;
using ImOrleans.Models;

namespace ImOrleans.Tests.Gateway;

/// <summary>The payload of a delivered message (<see cref="Wire.MessageBytes"/>), which is written with a buffer each
/// thread reuses.</summary>
[TestClass]
public sealed class WirePayloadTests
{
    private static MessageRecord Message(long seq, string from, string body) =>
        new("g-wire", seq, $"c{seq}", from, "phone", body, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + seq));

    [TestMethod]
    public void APayloadHoldsOnlyItsOwnMessageAfterALongerOne()
    {
        Wire.MessageBytes(Message(1, "alice", new string('x', 5000)));

        var payload = Wire.MessageBytes(Message(2, "bob", "hi") with { ReplyTo = 1 });

        Assert.AreEqual("""{"conv":"g-wire","seq":2,"id":"c2","from":"bob","dev":"phone","body":"hi","ts":1700000000002,"replyTo":1}""",
            System.Text.Encoding.UTF8.GetString(payload));
    }

    [TestMethod]
    public void AMessageIsWrittenOnceHoweverManyGetIt()
    {
        var message = Message(3, "alice", "to everyone");

        Assert.AreSame(Wire.MessageBytes(message), Wire.MessageBytes(message));
    }

    [TestMethod]
    public async Task PayloadsWrittenOnManyThreadsAtOnceEachMatchTheirMessage()
    {
        var messages = Enumerable.Range(1, 2000).Select(i => Message(i, $"u{i}", new string('b', i % 300))).ToArray();

        var payloads = await Task.WhenAll(messages.Select(m => Task.Run(() => Wire.MessageBytes(m))));

        for (var i = 0; i < messages.Length; i++)
        {
            var json = JsonNode.Parse(payloads[i])!.AsObject();
            Assert.AreEqual(messages[i].Seq, (long)json["seq"]!);
            Assert.AreEqual(messages[i].From, (string)json["from"]!);
            Assert.AreEqual(messages[i].Body, (string)json["body"]!);
        }
    }
}
