using System.Text.Json;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen;

/// <summary>Counts deliveries on <c>u/{me}/m</c> across all receivers and checks each receiver sees seqs
/// 1, 2, 3, … with none missing or out of order.</summary>
public sealed class DeliveryCounter
{
    private int _received;
    private int _outOfOrder;

    public int Received => Volatile.Read(ref _received);
    public int OutOfOrder => Volatile.Read(ref _outOfOrder);

    /// <summary>A message handler for one receiver; <paramref name="onMessage"/> gets each message's seq and body.</summary>
    public Func<MqttApplicationMessageReceivedEventArgs, Task> Receiver(Action<long, string> onMessage)
    {
        long lastSeq = 0;
        return e =>
        {
            if (!e.ApplicationMessage.Topic.EndsWith("/m"))
                return Task.CompletedTask;
            using var doc = JsonDocument.Parse(e.ApplicationMessage.Payload);
            var seq = doc.RootElement.GetProperty("seq").GetInt64();
            if (seq != lastSeq + 1)
                Interlocked.Increment(ref _outOfOrder);
            lastSeq = seq;
            Interlocked.Increment(ref _received);
            onMessage(seq, doc.RootElement.GetProperty("body").GetString()!);
            return Task.CompletedTask;
        };
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until <paramref name="expected"/> deliveries arrived.</summary>
    public async Task WaitForAsync(int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Received < expected && DateTime.UtcNow < deadline)
            await Task.Delay(20);
    }
}
