using ImOrleans.Models;

namespace ImOrleans.Grains.Conversations;

/// <summary>The last N messages of a conversation by (sender, client id) → seq, so a retried send finds the
/// stored message instead of storing it twice. Bounded: a retry older than the window is a new message.
/// Only the keys are kept: the message itself is read back from the store on the rare hit.</summary>
internal sealed class RecentMessages(int capacity)
{
    private readonly Dictionary<(string From, string Id), long> _seqByKey = [];
    private readonly Queue<(string From, string Id)> _order = new();

    public long? Find(string from, string clientId) => _seqByKey.TryGetValue((from, clientId), out var seq) ? seq : null;

    public void Add(MessageRecord m)
    {
        var key = (m.From, m.Id);
        if (!_seqByKey.TryAdd(key, m.Seq))
            return;
        _order.Enqueue(key);
        if (_order.Count > capacity)
            _seqByKey.Remove(_order.Dequeue());
    }

    public void Clear()
    {
        _seqByKey.Clear();
        _order.Clear();
    }
}
