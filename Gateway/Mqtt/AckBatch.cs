namespace ImOrleans.Gateway.Mqtt;

/// <summary>A connection's delivery acknowledgements not yet handed to its device grain: the highest seq per
/// conversation and how many PUBACKs they stand for. One grain call per batch instead of one per PUBACK; a batch
/// lost with the gateway only means those messages are delivered again.</summary>
public sealed class AckBatch
{
    private Dictionary<string, long> _highest = [];
    private int _count;

    /// <summary>Adds an ack; true for the first ack of a batch, whose caller hands the batch over later.</summary>
    public bool Add(string conversation, long seq)
    {
        lock (this)
        {
            if (seq > _highest.GetValueOrDefault(conversation))
                _highest[conversation] = seq;
            return ++_count == 1;
        }
    }

    /// <summary>Takes the acks gathered so far and starts a new batch.</summary>
    public (IReadOnlyDictionary<string, long> Highest, int Count) Take()
    {
        lock (this)
        {
            var taken = (_highest, _count);
            (_highest, _count) = ([], 0);
            return taken;
        }
    }
}
