using ImOrleans.Gateway.Mqtt;

namespace ImOrleans.Tests.Gateway;

/// <summary>Reading the conversation out of a message topic, which every send does.</summary>
[TestClass]
public sealed class TopicsTests
{
    [TestMethod]
    [DataRow("c/g-1/m", "g-1")]
    [DataRow("c/d-alice-bob/m", "d-alice-bob")]
    [DataRow("c//m", "")] // left to the conversation check, which refuses it by name
    [DataRow("c/a/b/m", null)]
    [DataRow("c/m", null)]
    [DataRow("c/g-1/e", null)]
    [DataRow("u/g-1/m", null)]
    [DataRow("cc/g-1/m", null)]
    [DataRow("", null)]
    public void TheConversationOfAMessageTopicIsWhatSplittingItWouldGive(string topic, string? conversation)
    {
        Assert.AreEqual(conversation, Topics.ConversationOfMessage(topic));
        Assert.AreEqual(conversation, topic.Split('/') is ["c", var conv, "m"] ? conv : null, "the rule it replaces");
    }
}
