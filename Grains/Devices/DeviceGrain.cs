using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Devices;

/// <summary>One device: which gateway connection holds it (one at a time), its acknowledged cursors, and the reads
/// from the store that a connection needs when it connects or falls behind. Live messages do not pass through here:
/// conversations hand them to the gateways directly, and each connection keeps its own position (see
/// <see cref="IGatewayObserver"/>).</summary>
public sealed class DeviceGrain(
    [PersistentState("device", GrainStorage.Name)] IPersistentState<DeviceState> state,
    IMessageStore store,
    DeviceLeases leases,
    IOptions<ChatLimits> limits,
    ILogger<DeviceGrain> log) : Grain, IDeviceGrain
{
    private const int ReplayPage = 200;

    /// <summary>Most messages per conversation one sync page looks at (the client's <c>limit</c> is clamped to it).</summary>
    public const int MaxSyncLimit = 500;

    /// <summary>Conversations one sync page looks at; the rest follow on the next page.</summary>
    public const int SyncConversationsPerPage = 100;

    /// <summary>Cursor writes are batched: each is a grain-state write (a transaction on the grain store, with its own
    /// sync to disk), which a busy device would otherwise make every second. A silo crash loses at most this much of
    /// the acks, which only means those messages are delivered again; a graceful stop writes them.</summary>
    private static readonly TimeSpan CursorFlushDelay = TimeSpan.FromSeconds(5);

    private IGatewayObserver? _gateway;
    private string? _connectionId;
    private DateTime _lastTouch;
    private DeferredWrite? _cursorWrite;
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

    public async Task<CatchUpPage> ConnectAsync(IGatewayObserver gateway, string connectionId, int room)
    {
        var (user, device) = Parts;
        IReadOnlyDictionary<string, long> joined;
        try
        {
            // Routed first, read second: what is stored from now on reaches the gateway live, and the page returned
            // holds what was stored before; the connection drops what it gets twice.
            joined = await GrainFactory.Ref<IUserGrain>(user).ConnectDeviceAsync(device, gateway);
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
        RenewLease();
        return room > 0 ? await ReadAsync(joined, new Dictionary<string, long>(), null, room) : new CatchUpPage([], [], []);
    }

    public async Task DisconnectAsync(string connectionId)
    {
        if (connectionId == _connectionId)
            await GoOfflineAsync();
        else if (_connectionId is null) // reactivated since: make sure the user grain does not think it online
            await GrainFactory.Ref<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, null);
    }

    public async Task<LeaseStatus> TouchAsync(string connectionId)
    {
        if (_connectionId is null)
            return LeaseStatus.Unknown;
        if (connectionId != _connectionId)
            return LeaseStatus.Superseded;
        RenewLease();
        bool reasserted;
        try
        {
            // Re-asserting keeps the user grain's view right if it was reactivated meanwhile; conversations may then
            // have sent nothing to this device for a while, so the gateway catches it up from the store.
            reasserted = await GrainFactory.Ref<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, _gateway);
        }
        catch (ImException ex) when (ex.Code == ErrorCodes.Disabled)
        {
            await EndConnectionAsync();
            return LeaseStatus.Ended;
        }
        return reasserted ? LeaseStatus.Resync : LeaseStatus.Current;
    }

    public Task AckAsync(string conversation, long seq) =>
        AckManyAsync(new Dictionary<string, long> { [conversation] = seq });

    public Task AckManyAsync(IReadOnlyDictionary<string, long> highest)
    {
        // Acks come from the gateway, for publishes it made itself, so they name only what was delivered. A stale one
        // (lower than the cursor: another connection acked further) moves nothing.
        foreach (var (conversation, seq) in highest)
        {
            if (seq <= Cursor(conversation))
                continue;
            state.State.Cursors[conversation] = seq;
            CursorWrite.Changed();
            if (conversation.StartsWith("d:", StringComparison.Ordinal)) // delivered marks exist in direct conversations only
                _ = GrainFactory.Ref<IConversationGrain>(conversation).MarkDeliveredAsync(Parts.User, seq);
        }
        return Task.CompletedTask;
    }

    public async Task<CatchUpPage> CatchUpAsync(IReadOnlyDictionary<string, long> sent, IReadOnlyList<string>? only, int room)
    {
        // Read afresh each time: a conversation the user left since must not be caught up any more.
        var joined = await GrainFactory.Ref<IUserGrain>(Parts.User).GetJoinedAtAsync();
        return await ReadAsync(joined, sent, only, room);
    }

    /// <summary>The catch-up read itself. <paramref name="joined"/> (the user's conversations and join points) only says
    /// where to look; each conversation confirms membership before its stored messages are read out.</summary>
    private async Task<CatchUpPage> ReadAsync(IReadOnlyDictionary<string, long> joined, IReadOnlyDictionary<string, long> sent,
        IReadOnlyList<string>? only, int room)
    {
        var conversations = (only ?? (IEnumerable<string>)joined.Keys).Where(joined.ContainsKey).Distinct()
            .Order(StringComparer.Ordinal).ToList();
        var messages = new List<MessageRecord>();
        var ranges = new List<CatchUpRange>();
        for (var i = 0; i < conversations.Count; i++)
        {
            if (room <= 0)
                return new CatchUpPage(messages, ranges, conversations[i..]);
            var conversation = conversations[i];
            var after = Math.Max(Math.Max(sent.GetValueOrDefault(conversation), Cursor(conversation)), joined[conversation]);
            var (upTo, finished, confirmed) = (after, false, false);
            while (true)
            {
                var want = Math.Min(ReplayPage, room);
                var page = await store.ReadAfterAsync(conversation, upTo, want);
                if (page.Count > 0 && !confirmed)
                {
                    // Asked only when there is something to deliver: asking every conversation would activate them all.
                    confirmed = true;
                    if (await JoinPointAsync(conversation) is not { } since)
                    {
                        upTo = -1; // on the user's list but not a member (a join or leave that failed half-way)
                        break;
                    }
                    if (since > upTo)
                    {
                        after = upTo = since; // re-added since: nothing from its time away
                        continue;
                    }
                }
                foreach (var m in page)
                {
                    // A device never gets its own messages back: it had them first, and the PUBACK gave their seq.
                    if (!IsOwn(m))
                    {
                        messages.Add(m);
                        room--;
                    }
                    upTo = m.Seq;
                }
                if (page.Count < want)
                {
                    finished = true;
                    break;
                }
                if (room <= 0)
                    break;
            }
            if (upTo >= 0)
                ranges.Add(new CatchUpRange(conversation, after, upTo, finished));
        }
        return new CatchUpPage(messages, ranges, []);
    }

    public async Task<SyncPage> SyncAsync(int limit, string? next)
    {
        limit = Math.Clamp(limit, 1, MaxSyncLimit);
        var resume = SyncPosition.Parse(next);
        var joined = await GrainFactory.Ref<IUserGrain>(Parts.User).GetJoinedAtAsync();
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

    public async Task EndSessionAsync(bool forget)
    {
        await EndConnectionAsync();
        if (forget)
        {
            CursorWrite.Forget();
            await state.ClearStateAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        leases.Forget(this.GetGrainId());
        return _cursorWrite?.FlushAsync(ct) ?? Task.CompletedTask;
    }

    private Task<long?> JoinPointAsync(string conversation) =>
        GrainFactory.Ref<IConversationGrain>(conversation).GetJoinPointAsync(Parts.User);

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
        leases.Forget(this.GetGrainId());
        await GrainFactory.Ref<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, null);
    }

    private TimeSpan Lease => limits.Value.ConnectionLease;

    /// <summary>The connection was bound or renewed: its lease runs from now. The silo's sweep
    /// (<see cref="DeviceLeases"/>) asks once it has run out, rather than a timer per connected device.</summary>
    private void RenewLease()
    {
        _lastTouch = DateTime.UtcNow;
        leases.EndsAfter(this.GetGrainId(), Lease);
    }

    public async Task EndLeaseIfStaleAsync()
    {
        if (_gateway is null)
            return;
        var left = _lastTouch + Lease - DateTime.UtcNow;
        if (left > TimeSpan.Zero)
        {
            // Renewed after the sweep took it, or the two clocks differ by a hair: ask again when it is over.
            leases.EndsAfter(this.GetGrainId(), left);
            return;
        }
        log.LogInformation("Connection of {Device} was not renewed; taking the device offline", Key);
        await GoOfflineAsync();
    }

    private long Cursor(string conversation) => state.State.Cursors.GetValueOrDefault(conversation);
}
