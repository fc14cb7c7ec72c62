using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Devices;

/// <summary>One device: binds to the gateway connection that holds it, delivers in seq order per
/// conversation with no gap between replay and live traffic, and keeps the acknowledged cursors.</summary>
public sealed class DeviceGrain(
    [PersistentState("device", GrainStorage.Name)] IPersistentState<DeviceState> state,
    IMessageStore store,
    IOptions<ChatLimits> limits,
    ILogger<DeviceGrain> log) : Grain, IDeviceGrain
{
    private const int ReplayPage = 200;

    /// <summary>Most messages per conversation one sync page looks at (the client's <c>limit</c> is clamped to it).</summary>
    public const int MaxSyncLimit = 500;

    /// <summary>Conversations one sync page looks at; the rest follow on the next page.</summary>
    public const int SyncConversationsPerPage = 100;


    /// <summary>A gateway that stops touching its connections for this long is taken for dead.</summary>
    internal static readonly TimeSpan ConnectionLease = TimeSpan.FromMinutes(3);

    /// <summary>Cursor writes are batched: losing the last second of acks only means a duplicate delivery.</summary>
    private static readonly TimeSpan CursorFlushDelay = TimeSpan.FromSeconds(1);

    private IGatewayObserver? _gateway;
    private string? _connectionId;
    private DateTime _lastTouch;
    private IGrainTimer? _leaseTimer;
    private DeferredWrite? _cursorWrite;

    // Deliveries handed to the gateway and not yet acknowledged, held below the window so that a long
    // backlog is paced by the device's acks instead of overflowing the gateway's per-device limit.
    private int _inFlight;
    private readonly int _window = limits.Value.DeliveryWindow;

    // Set when the window filled up: later messages wait in the store until acks make room.
    private bool _windowFull;

    // Highest seq handed to the current connection, per conversation; starts at the cursor on connect.
    private readonly Dictionary<string, long> _sent = [];
    private Dictionary<string, long> _joinedAt = [];

    // Conversations whose own member list confirmed, on this connection, that this user may read them from _sent.
    private readonly HashSet<string> _confirmed = [];

    private (string User, string Device)? _parts;

    private string Key => this.GetPrimaryKeyString();

    private DeferredWrite CursorWrite => _cursorWrite ??= new(this, state.WriteStateAsync, CursorFlushDelay);

    private (string User, string Device) Parts => _parts ??= ParseKey(Key);

    private static (string User, string Device) ParseKey(string key)
    {
        var slash = key.IndexOf('/');
        if (slash < 0 || !Ids.IsValidUser(key[..slash]) || !Ids.IsValidDevice(key[(slash + 1)..]))
            throw new ImException(ErrorCodes.InvalidId, $"'{key}' is not a {{user}}/{{device}} key");
        return (key[..slash], key[(slash + 1)..]);
    }

    public async Task ConnectAsync(IGatewayObserver gateway, string connectionId)
    {
        var (user, device) = Parts;
        var userGrain = GrainFactory.GetGrain<IUserGrain>(user);
        try
        {
            await userGrain.RegisterDeviceAsync(device);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.Disabled)
        {
            // Also what the gateway hears when it binds a connection again after this grain was reactivated:
            // the account is disabled, so that connection (and any this grain still holds) ends.
            _ = gateway.CloseAsync(Key, connectionId, takenOver: false);
            await EndConnectionAsync();
            throw;
        }

        // A newer connection wins: the gateway of the older one (maybe half-open after a network switch) drops it.
        if (_gateway is not null && _connectionId != connectionId)
            _ = _gateway.CloseAsync(Key, _connectionId!, takenOver: true);
        _gateway = gateway;
        _connectionId = connectionId;
        _lastTouch = DateTime.UtcNow;
        _sent.Clear();
        _confirmed.Clear();
        _inFlight = 0;
        _windowFull = false;
        _leaseTimer ??= this.RegisterGrainTimer(CheckLeaseAsync, ConnectionLease / 3, ConnectionLease / 3);

        // Online first, replay second: messages stored meanwhile reach OnMessage, which runs after this
        // turn and fills any gap from the store, so nothing falls between replay and live.
        await userGrain.SetDeviceOnlineAsync(device, true);
        await PumpAsync();
    }

    public async Task DisconnectAsync(string connectionId)
    {
        if (connectionId == _connectionId)
            await GoOfflineAsync();
        else if (_connectionId is null) // reactivated since: make sure the user grain does not think it online
            await GrainFactory.GetGrain<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, false);
    }

    public async Task<LeaseStatus> TouchAsync(string connectionId)
    {
        if (_connectionId is null)
            return LeaseStatus.Unknown;
        if (connectionId != _connectionId)
            return LeaseStatus.Superseded;
        _lastTouch = DateTime.UtcNow;
        bool reasserted;
        try
        {
            // Re-asserting keeps the user grain's view right if it was reactivated meanwhile; it then forwarded
            // nothing to this device for a while, so catch up from the store.
            reasserted = await GrainFactory.GetGrain<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, true);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.Disabled)
        {
            await EndConnectionAsync();
            return LeaseStatus.Ended;
        }
        if (reasserted && !_windowFull)
            await PumpAsync();
        return LeaseStatus.Current;
    }

    public Task AckAsync(string conversation, long seq) =>
        AckManyAsync(new Dictionary<string, long> { [conversation] = seq }, 1);

    public async Task AckManyAsync(IReadOnlyDictionary<string, long> highest, int count)
    {
        _inFlight = Math.Max(0, _inFlight - count);
        foreach (var (conversation, seq) in highest)
        {
            // Acks cannot run ahead of what was sent; a stale ack (lower than the cursor) moves nothing.
            if (seq > _sent.GetValueOrDefault(conversation, Cursor(conversation)) || seq <= Cursor(conversation))
                continue;
            state.State.Cursors[conversation] = seq;
            CursorWrite.Changed();
            if (conversation.StartsWith("d:", StringComparison.Ordinal)) // delivered marks exist in direct conversations only
                _ = GrainFactory.GetGrain<IConversationGrain>(conversation).MarkDeliveredAsync(Parts.User, seq);
        }
        // Resume a paused backlog once half the window is free, rather than after every single ack.
        if (_windowFull && _inFlight <= _window / 2)
        {
            _windowFull = false;
            await PumpAsync();
        }
    }

    public async Task<SyncPage> SyncAsync(int limit, string? next)
    {
        limit = Math.Clamp(limit, 1, MaxSyncLimit);
        var resume = SyncPosition.Parse(next);
        var joined = await GrainFactory.GetGrain<IUserGrain>(Parts.User).GetJoinedAtAsync();
        // A stable order (by id), so that a page can say where the next one starts.
        var conversations = joined.Where(c => resume is null || string.CompareOrdinal(c.Key, resume.Conversation) >= 0)
            .OrderBy(c => c.Key, StringComparer.Ordinal);
        var budget = limits.Value.MaxSyncBytes;
        var messages = new List<MessageRecord>();
        var looked = 0;
        foreach (var (conversation, joinedAt) in conversations)
        {
            // Each conversation costs a store read even when it has nothing new: a user in thousands pages through them.
            if (looked++ == SyncConversationsPerPage)
                return new SyncPage(messages, new SyncPosition(conversation, 0).ToString());
            var first = Math.Max(joinedAt, Cursor(conversation));
            var end = first + limit; // seqs have no gaps: the window is the first `limit` messages after the cursor
            var from = conversation == resume?.Conversation ? Math.Max(first, resume.Seq) : first;
            var membershipChecked = false;
            while (from < end)
            {
                var want = (int)Math.Min(Math.Min(ReplayPage, end - from), Math.Max(budget, 0) / WireSize.Minimum + 1);
                var page = await store.ReadAfterAsync(conversation, from, want);
                // The conversation decides membership, asked only when there is something to return: asking every
                // conversation would activate them all.
                if (page.Count > 0 && !membershipChecked)
                {
                    membershipChecked = true;
                    if (await JoinPointAsync(conversation) is not { } since)
                        break; // a stray list entry: not a member, nothing of it
                    if (since > from)
                    {
                        (from, end) = (since, since + limit);
                        continue;
                    }
                }
                foreach (var m in page)
                {
                    if (!IsOwn(m))
                    {
                        // At least one message per page, however big, so that paging always moves on.
                        var size = WireSize.Of(m);
                        if (messages.Count > 0 && size > budget)
                            return new SyncPage(messages, new SyncPosition(conversation, from).ToString());
                        messages.Add(m);
                        budget -= size;
                    }
                    from = m.Seq;
                }
                if (page.Count < want)
                    break;
            }
        }
        return new SyncPage(messages, null);
    }

    public Task<IReadOnlyDictionary<string, long>> GetCursorsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>(state.State.Cursors));

    public async Task SetPushAsync(string provider, string token)
    {
        if (string.IsNullOrWhiteSpace(provider) || string.IsNullOrWhiteSpace(token))
            throw new ImException(ErrorCodes.BadRequest, "provider and token are required");
        state.State.PushProvider = provider;
        state.State.PushToken = token;
        await state.WriteStateAsync();
    }

    public async Task OnMessageAsync(MessageRecord message)
    {
        if (_gateway is null)
            return; // offline: the message waits in the store until the device reconnects
        if (!_joinedAt.ContainsKey(message.Conversation))
            _joinedAt[message.Conversation] = message.Seq - 1; // joined after this connection began
        // A gap may hide a removal and a re-add: what lies in it is read only after the conversation confirms again.
        if (_sent.TryGetValue(message.Conversation, out var sent) && message.Seq > sent + 1)
            _confirmed.Remove(message.Conversation);
        if (_windowFull)
            return; // it waits in the store; acks resume delivery from there
        if (!await CatchUpAsync(message.Conversation, message.Seq - 1) || _windowFull)
            return;
        if (message.Seq != _sent[message.Conversation] + 1)
            return;
        if (_inFlight >= _window)
            _windowFull = true; // live traffic obeys the window too; the store keeps the message
        else
            await DeliverAsync(message.Conversation, [message]);
    }

    public async Task EndSessionAsync(bool forget)
    {
        await EndConnectionAsync();
        if (forget)
        {
            CursorWrite.Forget();
            await state.ClearStateAsync();
        }
    }

    public Task OnEventAsync(ConversationEvent evt)
    {
        if (_gateway is not null)
            _ = _gateway.EventAsync(Key, _connectionId!, evt);
        return Task.CompletedTask;
    }

    public Task OnPresenceAsync(PresenceInfo presence)
    {
        if (_gateway is not null)
            _ = _gateway.PresenceAsync(Key, _connectionId!, presence);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct) =>
        _cursorWrite?.FlushAsync(ct) ?? Task.CompletedTask;

    /// <summary>Catches every conversation up from the store, as far as the delivery window allows.</summary>
    private async Task PumpAsync()
    {
        // Read afresh each time: a conversation the user left since must not be caught up any more. The list only
        // says where to look; each conversation confirms again before its stored messages are read out.
        _joinedAt = new Dictionary<string, long>(await GrainFactory.GetGrain<IUserGrain>(Parts.User).GetJoinedAtAsync());
        _confirmed.Clear();
        foreach (var conversation in _joinedAt.Keys)
        {
            if (!await CatchUpAsync(conversation, long.MaxValue) || _windowFull)
                return;
        }
    }

    /// <summary>Sends the stored messages after what this connection has been sent, up to <paramref name="upTo"/>,
    /// while the window has room (else sets <see cref="_windowFull"/>). False when the connection was lost.</summary>
    private async Task<bool> CatchUpAsync(string conversation, long upTo)
    {
        var from = _sent.TryGetValue(conversation, out var sent)
            ? sent
            : Math.Max(Cursor(conversation), _joinedAt.GetValueOrDefault(conversation));
        _sent[conversation] = from;
        while (from < upTo)
        {
            var room = _window - _inFlight;
            if (room <= 0)
            {
                _windowFull = true;
                return true;
            }
            var page = await store.ReadAfterAsync(conversation, from, (int)Math.Min(Math.Min(ReplayPage, room), upTo - from));
            if (page.Count == 0)
                return true;
            if (!_confirmed.Contains(conversation))
            {
                // Asked only when there is something to deliver: asking every conversation would activate them all.
                if (await JoinPointAsync(conversation) is not { } since)
                    return true; // on the user's list but not a member (a join or leave that failed half-way)
                _confirmed.Add(conversation);
                if (since > from)
                {
                    _sent[conversation] = from = since; // re-added since: nothing from its time away
                    continue;
                }
            }
            if (!await DeliverAsync(conversation, page))
                return false;
            from = page[^1].Seq;
        }
        return true;
    }

    private async Task<bool> DeliverAsync(string conversation, IReadOnlyList<MessageRecord> messages)
    {
        if (_gateway is null)
            return false;
        // A device never gets its own messages back: it had them first, and the "sent" receipt gave their seq.
        var foreign = messages.Where(m => !IsOwn(m)).ToList();
        bool accepted;
        try
        {
            accepted = foreign.Count == 0 || await _gateway.DeliverAsync(Key, _connectionId!, foreign);
        }
        catch (Exception ex)
        {
            log.LogInformation(ex, "Gateway of {Device} did not answer; taking the device offline", Key);
            accepted = false;
        }
        if (!accepted)
        {
            await GoOfflineAsync();
            return false;
        }
        _sent[conversation] = messages[^1].Seq;
        _inFlight += foreign.Count;
        return true;
    }

    private Task<long?> JoinPointAsync(string conversation) =>
        GrainFactory.GetGrain<IConversationGrain>(conversation).GetJoinPointAsync(Parts.User);

    private bool IsOwn(MessageRecord m) => m.From == Parts.User && m.Device == Parts.Device;

    /// <summary>Closes the current connection, if any, from the server side.</summary>
    private async Task EndConnectionAsync()
    {
        if (_gateway is null)
            return;
        _ = _gateway.CloseAsync(Key, _connectionId!, takenOver: false);
        await GoOfflineAsync();
    }

    private async Task GoOfflineAsync()
    {
        _gateway = null;
        _connectionId = null;
        _sent.Clear();
        _confirmed.Clear();
        _leaseTimer?.Dispose();
        _leaseTimer = null;
        await GrainFactory.GetGrain<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, false);
    }

    private async Task CheckLeaseAsync(CancellationToken ct)
    {
        if (_gateway is not null && DateTime.UtcNow - _lastTouch > ConnectionLease)
        {
            log.LogInformation("Connection of {Device} was not renewed; taking the device offline", Key);
            await GoOfflineAsync();
        }
    }

    private long Cursor(string conversation) => state.State.Cursors.GetValueOrDefault(conversation);
}
