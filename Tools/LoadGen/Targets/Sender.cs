using ImOrleans.Tools.LoadGen.Results;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>A sending connection and the topic its messages go to (a conversation, or the reference broker's plain
/// topic). Numbers its messages 1, 2, 3, … in the order it hands them to the client, so the wire order is seq order.</summary>
public sealed class Sender(IMqttClient client, string topic, string name, string run)
{
    private long _seq;

    /// <summary>Publishes the next test message at QoS 1; counts it as sent, and as failed if refused or not
    /// acknowledged before <paramref name="abort"/>. Never throws.</summary>
    public async Task SendAsync(ScenarioStats stats, long sentAt, CancellationToken abort)
    {
        var payload = TestMessage.Build(run, name, Interlocked.Increment(ref _seq), sentAt);
        stats.OnSending();
        try
        {
            var result = await client.PublishAsync(MqttConnector.QoS1(topic, payload), abort);
            if (!result.IsSuccess)
                stats.OnFailed();
        }
        catch (Exception)
        {
            // Cancelled at the deadline, or the connection dropped: the message counts as failed (and as lost
            // unless it arrives anyway).
            stats.OnFailed();
        }
    }
}
