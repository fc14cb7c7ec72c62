using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Devices;

/// <summary>One device: binds to the gateway connection that holds it, delivers in seq order per
/// conversation with no gap between replay and live traffic, and keeps the acknowledged cursors.</summary>
public sealed class DeviceGrain(
    [PersistentState("device", GrainStorage.Name)] IPersistentState<DeviceState> state,
    IMessageStore store,
    ILogger<DeviceGrain> log) : Grain, IDeviceGrain
{
    private const int ReplayPage = 200;

    /// <summary>A gateway that stops touching its connections for this long is taken for dead.</summary>
    internal static readonly TimeSpan ConnectionLease = TimeSpan.FromMinutes(3);

    /// <summary>Cursor writes are batched: losing the last second of acks only means a duplicate delivery.</summary>
    private static readonly TimeSpan CursorFlushDelay = TimeSpan.FromSeconds(1);

    private IGatewayObserver? _gateway;
    private string? _connectionId;
    private DateTime _lastTouch;
    private IGrainTimer? _leaseTimer;
    private IGrainTimer? _flushTimer;
    private bool _cursorsDirty;

    // Highest seq handed to the current connection, per conversation; starts at the cursor on connect.
    private readonly Dictionary<string, long> _sent = [];
    private Dictionary<string, long> _joinedAt = [];

    private string Key => this.GetPrimaryKeyString();
    private (string User, string Device) Parts
    {
        get
        {
            var slash = Key.IndexOf('/');
            if (slash < 0 || !Ids.IsValidUser(Key[..slash]) || !Ids.IsValidDevice(Key[(slash + 1)..]))
                throw new ImException(ErrorCodes.InvalidId, $"'{Key}' is not a {{user}}/{{device}} key");
            return (Key[..slash], Key[(slash + 1)..]);
        }
    }

    public async Task ConnectAsync(IGatewayObserver gateway, string connectionId)
    {
        var (user, device) = Parts;
        var userGrain = GrainFactory.GetGrain<IUserGrain>(user);
        await userGrain.RegisterDeviceAsync(device);

        _gateway = gateway;
        _connectionId = connectionId;
        _lastTouch = DateTime.UtcNow;
        _sent.Clear();
        _leaseTimer ??= this.RegisterGrainTimer(CheckLeaseAsync, ConnectionLease / 3, ConnectionLease / 3);

        // Online first, replay second: messages stored meanwhile reach OnMessage, which runs after this
        // turn and fills any gap from the store, so nothing falls between replay and live.
        await userGrain.SetDeviceOnlineAsync(device, true);
        _joinedAt = new Dictionary<string, long>(await userGrain.GetJoinedAtAsync());
        foreach (var conversation in _joinedAt.Keys)
        {
            if (!await CatchUpAsync(conversation, long.MaxValue))
                return;
        }
    }

    public async Task DisconnectAsync(string connectionId)
    {
        if (connectionId == _connectionId)
            await GoOfflineAsync();
    }

    public async Task<bool> TouchAsync(string connectionId)
    {
        if (connectionId != _connectionId)
            return false;
        _lastTouch = DateTime.UtcNow;
        // Re-asserting keeps the user grain's view right even if it was reactivated meanwhile.
        await GrainFactory.GetGrain<IUserGrain>(Parts.User).SetDeviceOnlineAsync(Parts.Device, true);
        return true;
    }

    public Task AckAsync(string conversation, long seq)
    {
        // Acks cannot run ahead of what was sent; a stale ack (lower than the cursor) changes nothing.
        if (seq > _sent.GetValueOrDefault(conversation, Cursor(conversation)) || seq <= Cursor(conversation))
            return Task.CompletedTask;
        state.State.Cursors[conversation] = seq;
        _cursorsDirty = true;
        _flushTimer ??= this.RegisterGrainTimer(FlushCursorsAsync, CursorFlushDelay, Timeout.InfiniteTimeSpan);
        _ = GrainFactory.GetGrain<IConversationGrain>(conversation).MarkDeliveredAsync(Parts.User, seq);
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<MessageRecord>> SyncAsync(int limit)
    {
        var joined = await GrainFactory.GetGrain<IUserGrain>(Parts.User).GetJoinedAtAsync();
        var result = new List<MessageRecord>();
        foreach (var (conversation, joinedAt) in joined)
            result.AddRange(await store.ReadAfterAsync(conversation, Math.Max(joinedAt, state.State.Cursors.GetValueOrDefault(conversation)), limit));
        return result;
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
        await CatchUpAsync(message.Conversation, message.Seq - 1);
        if (message.Seq == _sent.GetValueOrDefault(message.Conversation) + 1)
            await DeliverAsync(message.Conversation, [message]);
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

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        if (_cursorsDirty)
            await state.WriteStateAsync(ct);
    }

    /// <summary>Sends the stored messages after what this connection has been sent, up to <paramref name="upTo"/>.
    /// False when the connection was lost on the way.</summary>
    private async Task<bool> CatchUpAsync(string conversation, long upTo)
    {
        var from = _sent.TryGetValue(conversation, out var sent)
            ? sent
            : Math.Max(Cursor(conversation), _joinedAt.GetValueOrDefault(conversation));
        _sent[conversation] = from;
        while (from < upTo)
        {
            var page = await store.ReadAfterAsync(conversation, from, (int)Math.Min(ReplayPage, upTo - from));
            if (page.Count == 0)
                return true;
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
        var (user, device) = Parts;
        var foreign = messages.Where(m => m.From != user || m.Device != device).ToList();
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
        return true;
    }

    private async Task GoOfflineAsync()
    {
        _gateway = null;
        _connectionId = null;
        _sent.Clear();
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

    private async Task FlushCursorsAsync(CancellationToken ct)
    {
        _flushTimer?.Dispose();
        _flushTimer = null;
        if (!_cursorsDirty)
            return;
        _cursorsDirty = false;
        await state.WriteStateAsync(ct);
    }

    private long Cursor(string conversation) => state.State.Cursors.GetValueOrDefault(conversation);
}
