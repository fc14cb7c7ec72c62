namespace ImOrleans.Gateway.Mqtt;

/// <summary>A connection's delivery acknowledgements on their way to its device grain: the highest seq per
/// conversation, gathered for <c>Gateway:AckDelay</c> and handed over in one call. A busy device costs one call per
/// delay, not one per PUBACK; a gateway crash loses at most that much of its acks (those messages come again).</summary>
public sealed class AckBatch
{
    // Made by the first ack of each batch: an idle connection holds none.
    private Dictionary<string, long>? _highest;
    private bool _pending;

    /// <summary>Adds an ack; true when none was pending, and the caller must schedule a hand-over.</summary>
    public bool Add(string conversation, long seq)
    {
        lock (this)
        {
            _highest ??= [];
            if (seq > _highest.GetValueOrDefault(conversation))
                _highest[conversation] = seq;
            if (_pending)
                return false;
            _pending = true;
            return true;
        }
    }

    /// <summary>Takes the acks gathered so far (null when there are none; the next ack then schedules a hand-over).</summary>
    public IReadOnlyDictionary<string, long>? Take()
    {
        lock (this)
        {
            var taken = _highest;
            _highest = null;
            if (taken is null)
                _pending = false;
            return taken;
        }
    }
}
