using System.Buffers;
using System.Text;
using ImOrleans.Gateway.Mqtt;

namespace ImOrleans.Tests.Gateway;

/// <summary>The tree-less reading of a plain message's payload: what it reads must be what the tree gave, and
/// whatever else it meets it must leave to the tree (which words the errors).</summary>
[TestClass]
public sealed class PlainMessageReaderTests
{
    private static ReadOnlySequence<byte> Bytes(string json) => new(Encoding.UTF8.GetBytes(json));

    [TestMethod]
    public void ReadsIdBodyReplyAndMentions()
    {
        Assert.IsTrue(PlainMessageReader.TryRead(Bytes("""{"id":"m-1","body":"hi \"there\" \u00e9","replyTo":7,"mentions":["bob","carol"]}"""),
            out var id, out var entry));

        Assert.AreEqual("m-1", id);
        Assert.IsNull(entry.Kind);
        Assert.AreEqual("hi \"there\" é", entry.Body);
        Assert.AreEqual(7L, entry.ReplyTo);
        CollectionAssert.AreEqual(new[] { "bob", "carol" }, entry.Mentions!.ToArray());
        Assert.IsNull(entry.Attachments);
    }

    [TestMethod]
    [DataRow("""{"body":"b","id":"m-2"}""")]
    [DataRow("""{ "id" : "m-2" , "body" : "b" , "replyTo" : null , "mentions" : null , "kind" : null , "attachments" : null }  """)]
    public void NullFieldsAreAbsentFieldsAndOrderAndSpacingDoNotMatter(string json)
    {
        Assert.IsTrue(PlainMessageReader.TryRead(Bytes(json), out var id, out var entry));
        Assert.AreEqual("m-2", id);
        Assert.AreEqual("b", entry.Body);
        Assert.IsNull(entry.ReplyTo);
        Assert.IsNull(entry.Mentions);
    }

    [TestMethod]
    public void OtherFieldsWithPlainValuesAreIgnoredAsTheTreeIgnoresThem()
    {
        Assert.IsTrue(PlainMessageReader.TryRead(Bytes("""{"id":"m-4","seq":5,"body":"b","note":"x","flag":true,"gone":null}"""),
            out var id, out var entry));
        Assert.AreEqual("m-4", id);
        Assert.AreEqual("b", entry.Body);
    }

    [TestMethod]
    public void AnEmptyMentionListStaysAList()
    {
        Assert.IsTrue(PlainMessageReader.TryRead(Bytes("""{"id":"m","body":"b","mentions":[]}"""), out _, out var entry));
        Assert.AreEqual(0, entry.Mentions!.Count);
    }

    [TestMethod]
    public void ReadsAPayloadSplitAcrossSegmentsAtAnyByte()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"id":"m-3","body":"across \u00e9 segments","replyTo":12,"mentions":["bob"],"seq":4}""");
        for (var split = 1; split < bytes.Length; split++)
        {
            var first = new Segment(bytes.AsMemory(0, split));
            var last = first.Append(bytes.AsMemory(split));

            Assert.IsTrue(PlainMessageReader.TryRead(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), out var id, out var entry),
                $"split at {split}");
            Assert.AreEqual("m-3", id);
            Assert.AreEqual("across é segments", entry.Body);
            Assert.AreEqual(12L, entry.ReplyTo);
            CollectionAssert.AreEqual(new[] { "bob" }, entry.Mentions!.ToArray());
        }
    }

    [TestMethod]
    public void EscapedFieldNamesAreTheirNames()
    {
        Assert.IsTrue(PlainMessageReader.TryRead(Bytes("""{"\u0069d":"m-5","b\u006fdy":"b","replyTo":-0}"""), out var id, out var entry));
        Assert.AreEqual("m-5", id);
        Assert.AreEqual("b", entry.Body);
        Assert.AreEqual(0L, entry.ReplyTo);
    }

    [TestMethod]
    public void ReadsAFewOtherFieldsAndLeavesManyToTheTree()
    {
        static string Payload(int others) =>
            $$"""{"id":"m","body":"b"{{string.Concat(Enumerable.Range(0, others).Select(i => $",\"f{i}\":{i}"))}}}""";

        Assert.IsTrue(PlainMessageReader.TryRead(Bytes(Payload(8)), out _, out _));
        Assert.IsFalse(PlainMessageReader.TryRead(Bytes(Payload(9)), out _, out _));
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("[]")]
    [DataRow("\"text\"")]
    [DataRow("""{"body":"b"}""")] // no id
    [DataRow("""{"id":"m"}""")] // no body
    [DataRow("""{"id":7,"body":"b"}""")]
    [DataRow("""{"id":"m","body":7}""")]
    [DataRow("""{"id":"m","body":null}""")]
    [DataRow("""{"id":"m","body":"b","replyTo":"7"}""")]
    [DataRow("""{"id":"m","body":"b","replyTo":1.5}""")]
    [DataRow("""{"id":"m","body":"b","replyTo":99999999999999999999}""")]
    [DataRow("""{"id":"m","body":"b","mentions":"bob"}""")]
    [DataRow("""{"id":"m","body":"b","mentions":["bob",null]}""")]
    [DataRow("""{"id":"m","body":"b","mentions":[["bob"]]}""")]
    [DataRow("""{"id":"m","body":"b","kind":"message"}""")]
    [DataRow("""{"id":"m","body":"b","attachments":[]}""")]
    [DataRow("""{"id":"m","body":"b","extra":1,"extra":2}""")]
    [DataRow("""{"id":"m","body":"b","extra":{"a":1}}""")]
    [DataRow("""{"id":"m","body":"b","extra":[1]}""")]
    [DataRow("""{"id":"m","body":"b","id":"n"}""")]
    [DataRow("""{"id":"m","body":"b","\u0069d":"n"}""")]
    [DataRow("""{"id":"m","body":"b","replyTo":1e2}""")]
    [DataRow("""{"id":"m","body":"\ud83d"}""")] // half an emoji: no character
    [DataRow("""{"id":"m","body":"b","mentions":["\udc00"]}""")]
    [DataRow("""{"id":"m","body":"b"} {"id":"n"}""")]
    [DataRow("""{"id":"m","body":"b"}x""")]
    [DataRow("""{"id":"m","body":"b",}""")]
    [DataRow("""{"id":"m","body":"b" /* note */}""")]
    [DataRow("""{"id":"m","body":"b\""")]
    public void LeavesEveryOtherPayloadToTheTree(string json) =>
        Assert.IsFalse(PlainMessageReader.TryRead(Bytes(json), out _, out _));

    [TestMethod]
    public void LeavesMoreThanAHundredMentionsToTheTree()
    {
        static string Payload(int n) => $$"""{"id":"m","body":"b","mentions":[{{string.Join(",", Enumerable.Range(0, n).Select(i => $"\"u{i}\""))}}]}""";

        Assert.IsTrue(PlainMessageReader.TryRead(Bytes(Payload(100)), out _, out var entry));
        Assert.AreEqual(100, entry.Mentions!.Count);
        Assert.IsFalse(PlainMessageReader.TryRead(Bytes(Payload(101)), out _, out _));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
