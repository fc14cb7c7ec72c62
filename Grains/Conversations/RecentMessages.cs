using ImOrleans.Models;

namespace ImOrleans.Grains.Conversations;

/// <summary>The last N messages of a conversation by (sender, client id), so a retried send returns the
/// stored message instead of storing it twice. Bounded: a retry older than the window is a new message.</summary>
internal sealed class RecentMessages(int capacity)
{
    private readonly Dictionary<(string From, string Id), MessageRecord> _byKey = [];
    private readonly Queue<(string From, string Id)> _order = new();

    public MessageRecord? Find(string from, string clientId) => _byKey.GetValueOrDefault((from, clientId));

    public void Add(MessageRecord m)
    {
        var key = (m.From, m.Id);
        if (!_byKey.TryAdd(key, m))
            return;
        _order.Enqueue(key);
        if (_order.Count > capacity)
            _byKey.Remove(_order.Dequeue());
    }

    public void Clear()
    {
        _byKey.Clear();
        _order.Clear();
    }
}
