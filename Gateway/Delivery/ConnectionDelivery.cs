using ImOrleans.Gateway.Mqtt;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Delivery;

/// <summary>Puts one connection's messages in order. Conversations hand each stored message to the gateway once
/// (live); this class keeps, per conversation, the last seq the connection was given, and hands a live message on
/// only when it is the next one and the delivery window has room. Anything else (a gap, a conversation it has no
/// position for yet, a full window) makes it read the store through the device grain instead, from where the
/// connection is: replay and live traffic meet without a gap, a repeat or a reordering.</summary>
/// <param name="publish">Hands one message to the client; false when the connection cannot take it (it is dropped,
/// and the device replays from its cursor when it comes back).</param>
/// <param name="awaitsBind">It will be bound (<see cref="ConnectAsync"/>), and reads nothing from the store before:
/// the gateway knows a new connection before its device grain does, and live messages for its user can reach it
/// meanwhile (through another of the user's devices here).</param>
public sealed class ConnectionDelivery(string user, string device, IDeviceGrain grain, int window,
    Func<MessageRecord, bool> publish, ILogger log, bool awaitsBind)
{
    private static readonly TimeSpan FirstRetryPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryPause = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();

    // Conversation → the highest seq this connection was handed (or passed over as its own).
    private readonly Dictionary<string, long> _sent = [];

    // Conversations whose next messages must be read from the store.
    private readonly HashSet<string> _behind = [];

    // Every conversation must be read from the store (just connected, or routes may have been lost).
    private bool _all;

    // A catch-up loop is running, or the bind is still to come; at most one per connection.
    private bool _running = awaitsBind;
    private readonly bool _awaitsBind = awaitsBind;
    private bool _bound;
    private TimeSpan _retryPause = FirstRetryPause;
    private bool _closed;
    private int _inFlight;

    /// <summary>Messages handed to the client and not acknowledged yet.</summary>
    public int InFlight
    {
        get { lock (_gate) return _inFlight; }
    }

    /// <summary>Reads everything the device has not acknowledged, in every conversation; returns once the reading
    /// stopped (nothing left, or the window is full: acks resume it).</summary>
    public Task CatchUpAllAsync()
    {
        lock (_gate)
        {
            _all = true;
            if (!TryStart())
                return Task.CompletedTask;
        }
        return RunAsync();
    }

    /// <summary>Binds a new connection with <paramref name="bind"/> (which returns the first page of what it missed,
    /// given the room in the window), then reads on like <see cref="CatchUpAllAsync"/> until nothing is left or the
    /// window is full. A failed bind is the caller's to handle: nothing is retried.</summary>
    public async Task ConnectAsync(Func<int, Task<CatchUpPage>> bind)
    {
        int room;
        lock (_gate)
        {
            if (_closed)
                return; // gone before it was bound: nothing to bind
            // Live messages that arrive meanwhile wait for the loop below, as during any catch-up.
            if (!_awaitsBind || _bound)
                throw new InvalidOperationException("a connection is bound once, and only one made to await its bind");
            _bound = true;
            room = window - _inFlight;
        }
        CatchUpPage page;
        try
        {
            GatewayMetrics.CatchUps.Add(1, GatewayMetrics.Tag("scope", "all")); // the bind's page is the first read
            page = await bind(room);
        }
        catch
        {
            lock (_gate)
                _running = false;
            throw;
        }
        lock (_gate)
        {
            if (!_closed)
                Apply(page);
        }
        await RunAsync();
    }

    /// <summary>A live message for this connection's user.</summary>
    public void Offer(MessageRecord message)
    {
        lock (_gate)
        {
            if (_closed)
                return;
            // The first message of a conversation has nothing before it: no need to ask where this device stands.
            if (_sent.TryGetValue(message.Conversation, out var sent) || message.Seq == 1)
            {
                if (message.Seq <= sent)
                    return; // had it already (from the store, or twice from the conversation)
                if (message.Seq == sent + 1 && !_behind.Contains(message.Conversation))
                {
                    if (IsOwn(message))
                    {
                        _sent[message.Conversation] = message.Seq;
                        return;
                    }
                    if (_inFlight < window)
                    {
                        Hand(message);
                        return;
                    }
                }
            }
            _behind.Add(message.Conversation);
            if (!TryStart())
                return;
        }
        _ = RunAsync();
    }

    /// <summary>The client acknowledged one delivery.</summary>
    public void Acknowledged()
    {
        lock (_gate)
        {
            if (_inFlight > 0)
                _inFlight--;
            // A paused backlog resumes once half the window is free, rather than after every single ack.
            if (_closed || _running || (!_all && _behind.Count == 0) || _inFlight > window / 2)
                return;
            _running = true;
        }
        _ = RunAsync();
    }

    /// <summary>The connection is gone: nothing more is handed on or read.</summary>
    public void Close()
    {
        lock (_gate)
            _closed = true;
    }

    private async Task RetryAfterAsync(TimeSpan pause)
    {
        await Task.Delay(pause);
        lock (_gate)
        {
            if ((!_all && _behind.Count == 0) || !TryStart())
                return; // done meanwhile, or already under way
        }
        await RunAsync();
    }

    private bool TryStart()
    {
        if (_running || _closed || _inFlight >= window)
            return false;
        _running = true;
        return true;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            Dictionary<string, long> sent;
            List<string>? only;
            int room;
            lock (_gate)
            {
                room = window - _inFlight;
                if (_closed || (!_all && _behind.Count == 0) || room <= 0)
                {
                    _running = false;
                    return;
                }
                only = _all ? null : [.. _behind];
                sent = only is null ? new(_sent) : only.Where(_sent.ContainsKey).ToDictionary(c => c, c => _sent[c]);
                _all = false;
                _behind.Clear();
            }

            CatchUpPage page;
            try
            {
                GatewayMetrics.CatchUps.Add(1, GatewayMetrics.Tag("scope", only is null ? "all" : "some"));
                page = await grain.CatchUpAsync(sent, only, room);
            }
            catch (Exception ex)
            {
                // Tried again after a pause (or sooner, with the next live message): waiting for traffic alone
                // would leave the last messages of a quiet conversation undelivered.
                TimeSpan pause;
                lock (_gate)
                {
                    pause = _retryPause;
                    if (only is null)
                        _all = true;
                    else
                        _behind.UnionWith(only);
                    _running = false;
                    _retryPause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxRetryPause.Ticks));
                }
                log.LogWarning(ex, "Could not catch {User}/{Device} up from the store; trying again in {Pause}", user, device, pause);
                _ = RetryAfterAsync(pause);
                return;
            }

            lock (_gate)
            {
                _retryPause = FirstRetryPause;
                if (!_closed)
                    Apply(page);
            }
        }
    }

    private void Apply(CatchUpPage page)
    {
        var messages = page.Messages.ToLookup(m => m.Conversation);
        foreach (var range in page.Ranges)
        {
            // Live messages handed on while the read was under way may have moved the position past its start.
            var position = Math.Max(_sent.GetValueOrDefault(range.Conversation, long.MinValue), range.After);
            // A range holds every message after its start up to UpTo but the device's own: no gap check needed.
            foreach (var m in messages[range.Conversation])
            {
                if (m.Seq <= position)
                    continue;
                if (!Hand(m))
                    return;
                GatewayMetrics.Replayed.Add(1);
                position = m.Seq;
            }
            _sent[range.Conversation] = Math.Max(position, range.UpTo);
            if (!range.Finished)
                _behind.Add(range.Conversation);
        }
        _behind.UnionWith(page.Unvisited);
    }

    private bool Hand(MessageRecord message)
    {
        if (!publish(message))
        {
            _closed = true;
            return false;
        }
        _sent[message.Conversation] = message.Seq;
        _inFlight++;
        return true;
    }

    private bool IsOwn(MessageRecord m) => m.From == user && m.Device == device;
}
