using System.Diagnostics;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>One receiving connection. Each test message that arrives on <paramref name="topic"/> is reported to the
/// running scenario: as a duplicate if its seq came before in the same conversation, out of order if a higher seq
/// of that conversation came first. (On ImOrleans one connection may get several conversations: a pair's and a
/// group's.)</summary>
public sealed class Receiver(Recorder recorder, string topic)
{
    private readonly Dictionary<string, Stream> _streams = [];

    private sealed class Stream
    {
        public readonly HashSet<long> Seen = [];
        public long Highest;
    }

    public Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var now = Stopwatch.GetTimestamp();
        if (e.ApplicationMessage.Topic != topic || !TestMessage.TryRead(e.ApplicationMessage.Payload, out var conv, out var seq, out var sentAt))
            return Task.CompletedTask;
        bool duplicate, outOfOrder;
        lock (_streams)
        {
            if (!_streams.TryGetValue(conv ?? "", out var stream))
                _streams[conv ?? ""] = stream = new Stream();
            duplicate = !stream.Seen.Add(seq);
            outOfOrder = !duplicate && seq < stream.Highest;
            stream.Highest = Math.Max(stream.Highest, seq);
        }
        recorder.Current?.OnDelivered(Stopwatch.GetElapsedTime(sentAt, now).TotalMilliseconds, duplicate, outOfOrder);
        return Task.CompletedTask;
    }
}
