namespace ImOrleans.Gateway.Mqtt;

/// <summary>A connection's delivery acknowledgements on their way to its device grain. An ack goes at once when
/// none is on its way; acks that arrive while a call is in flight gather (the highest seq per conversation, and
/// how many PUBACKs) and go together in the next call. A quiet device costs one call per ack, as before, and loses
/// nothing to a gateway crash beyond the ack in flight; a busy one costs one call per round trip, not per PUBACK.</summary>
public sealed class AckBatch
{
    private Dictionary<string, long> _highest = [];
    private int _count;
    private bool _sending;

    /// <summary>Adds an ack; true when no call is on its way, and the caller must start handing acks over.</summary>
    public bool Add(string conversation, long seq)
    {
        lock (this)
        {
            if (seq > _highest.GetValueOrDefault(conversation))
                _highest[conversation] = seq;
            _count++;
            if (_sending)
                return false;
            _sending = true;
            return true;
        }
    }

    /// <summary>Takes the acks gathered so far; when there are none, the hand-over ends (a later ack starts one).</summary>
    public (IReadOnlyDictionary<string, long> Highest, int Count) Take()
    {
        lock (this)
        {
            var taken = (_highest, _count);
            if (_count == 0)
                _sending = false;
            else
                (_highest, _count) = ([], 0);
            return taken;
        }
    }
}
