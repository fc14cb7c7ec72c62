using ImOrleans.Grains.Push;
using ImOrleans.Models;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Users;

public sealed class UserGrain(
    [PersistentState("user", GrainStorage.Name)] IPersistentState<UserState> state,
    IOptions<ChatLimits> limits,
    ILogger<UserGrain> log) : Grain, IUserGrain
{
    // PasswordHasher's format is versioned and salted (PBKDF2, 100k iterations); stateless, so one instance serves all.
    private static readonly PasswordHasher<string> Hasher = new();

    // Same algorithm and cost as a real hash; no password matches it (it is checked only for unusable accounts).
    private static readonly Lazy<string> StandInHash = new(() => Hasher.HashPassword("", Guid.NewGuid().ToString()));

    // Connected devices and the gateway each is on: what conversations need to fan out to this user.
    private readonly Dictionary<string, IGatewayObserver> _onlineDevices = [];

    // Conversations (active ones) that keep this user's route and must hear when it changes.
    private readonly HashSet<string> _watchers = [];

    // Starts at the clock, so that a reactivated grain's routes still win over an older activation's.
    private long _routeVersion = DateTime.UtcNow.Ticks;

    // A conversation that does not answer soon is left behind: it reloads every route on its own schedule.
    private static readonly TimeSpan RouteNoticeTimeout = TimeSpan.FromSeconds(5);

    // A new device is written to the list within a second, together with any others, not one write (a transaction
    // with its own sync) each: a storm of new devices connecting was bound by those writes. One lost in a crash is
    // registered again when that device next connects, as every connect registers its device.
    private static readonly TimeSpan DeviceListFlushDelay = TimeSpan.FromSeconds(1);
    private DeferredWrite? _deviceListWrite;
    private DeferredWrite DeviceListWrite => _deviceListWrite ??= new(this, state.WriteStateAsync, DeviceListFlushDelay);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct) =>
        _deviceListWrite?.FlushAsync(ct) ?? Task.CompletedTask;

    private string UserId => this.GetPrimaryKeyString();
    private UserState S => state.State;

    public async Task CreateAsync(string password)
    {
        Ids.RequireUser(UserId);
        if (UserId == Ids.SystemUser)
            throw new ImException(ErrorCodes.InvalidId, $"'{Ids.SystemUser}' is reserved");
        if (S.Created || S.Erased)
            throw new ImException(ErrorCodes.AlreadyExists, $"user '{UserId}' already exists");
        RequireStrong(password);
        // Hashed before the account shows as created: reads interleave with this wait.
        var user = UserId;
        var hash = await HashingLane.Shared.RunAsync(() => Hasher.HashPassword(user, password));
        S.Created = true;
        S.CreatedAt = DateTimeOffset.UtcNow;
        S.PasswordHash = hash;
        await state.WriteStateAsync();
    }

    public async Task<bool> VerifyPasswordAsync(string password)
    {
        if (string.IsNullOrEmpty(password))
            return false;
        // An unknown or disabled account is checked against a stand-in hash, so that the time taken does not
        // tell which accounts exist.
        var usable = S.Created && !S.Disabled;
        var (user, hash) = (UserId, usable ? S.PasswordHash : StandInHash.Value);
        var result = await HashingLane.Shared.RunAsync(() => Hasher.VerifyHashedPassword(user, hash, password));
        return usable && result != PasswordVerificationResult.Failed;
    }

    public async Task SetPasswordAsync(string password)
    {
        RequireCreated();
        RequireStrong(password);
        var user = UserId;
        S.PasswordHash = await HashingLane.Shared.RunAsync(() => Hasher.HashPassword(user, password));
        await state.WriteStateAsync();
    }

    public async Task SetDisabledAsync(bool disabled)
    {
        RequireCreated();
        S.Disabled = disabled;
        await state.WriteStateAsync();
        if (disabled)
        {
            // Every registered device, not only those known online here: after a reactivation this grain knows none.
            foreach (var device in S.Devices.Union(_onlineDevices.Keys))
                _ = Device(device).EndSessionAsync(forget: false);
            // Conversations remember who may send; they must ask again. A rare, administrative act: worth a call each.
            foreach (var conversation in S.Conversations.Keys)
                _ = GrainFactory.Ref<IConversationGrain>(conversation).ForgetSenderAsync(UserId);
        }
    }

    public async Task EraseAsync()
    {
        RequireCreated();
        // Disabled first, so that no login, session or send gets in while the rest goes.
        S.Disabled = true;
        await state.WriteStateAsync();
        foreach (var device in S.Devices.Union(_onlineDevices.Keys).ToList())
            _ = Device(device).EndSessionAsync(forget: true); // its cursors and push token go with it
        // Every conversation tombstones the user's messages, tells its devices, and drops the member.
        // Those it left too: what it said there is its own as well.
        await Task.WhenAll(S.Conversations.Keys.Union(S.FormerConversations.Keys)
            .Select(c => GrainFactory.Ref<IConversationGrain>(c).EraseUserAsync(UserId)));
        foreach (var contact in S.Contacts)
            _ = GrainFactory.Ref<IUserGrain>(contact).SetContactOfAsync(UserId, false);
        state.State = new UserState { Erased = true };
        await state.WriteStateAsync();
        _onlineDevices.Clear();
    }

    public Task<UserProfile> GetProfileAsync() =>
        Task.FromResult(new UserProfile(UserId, S.Created, S.Disabled, S.CreatedAt, S.Devices.ToList()));

    public Task<bool> IsActiveAsync() => Task.FromResult(S.Created && !S.Disabled);

    public async Task RegisterDeviceAsync(string device)
    {
        if (AddDevice(device))
            await RouteChangedAsync(); // one more device that may be offline
    }

    /// <summary>Records the device unless known; true when it is new. Refuses a missing or disabled account and a device
    /// past the limit.</summary>
    private bool AddDevice(string device)
    {
        RequireCreated();
        RequireEnabled();
        Ids.RequireDevice(device);
        if (S.Devices.Contains(device))
            return false;
        if (S.Devices.Count >= limits.Value.MaxDevicesPerUser)
            throw new ImException(ErrorCodes.LimitExceeded, $"user '{UserId}' already has {S.Devices.Count} devices (limit {limits.Value.MaxDevicesPerUser})");
        S.Devices.Add(device);
        DeviceListWrite.Changed();
        return true;
    }

    public async Task RemoveDeviceAsync(string device)
    {
        RequireCreated();
        if (!S.Devices.Remove(device))
            throw new ImException(ErrorCodes.NotFound, $"user '{UserId}' has no device '{device}'");
        await state.WriteStateAsync();
        _ = Device(device).EndSessionAsync(forget: true);
        PushHooks.DeviceRemoved(GrainFactory, UserId, device);
        await RouteChangedAsync();
    }

    public async Task<StateDelta> SyncDeltaAsync(DateTimeOffset? since)
    {
        RequireCreated();
        var at = DateTimeOffset.UtcNow;
        var deltas = await Task.WhenAll(S.Conversations.Keys.Select(c =>
            GrainFactory.Ref<IConversationGrain>(c).GetDeltaAsync(UserId, since)));
        var removed = S.FormerConversations.Where(f => since is null || f.Value > since).Select(f => f.Key)
            .Order(StringComparer.Ordinal).ToList();
        return new StateDelta(deltas.OfType<ConversationDelta>().OrderBy(d => d.Info.Id, StringComparer.Ordinal).ToList(), removed, at);
    }

    public async Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync()
    {
        var summaries = await Task.WhenAll(S.Conversations.Keys.Select(c =>
            GrainFactory.Ref<IConversationGrain>(c).GetSummaryAsync(UserId)));
        return summaries.OfType<ConversationSummary>()
            .OrderByDescending(s => s.LastSeq).ThenBy(s => s.Id, StringComparer.Ordinal).ToList();
    }

    public Task<IReadOnlyDictionary<string, long>> GetJoinedAtAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>(S.Conversations));

    public async Task SetMembershipAsync(string conversation, bool member, long joinedAt, string by)
    {
        if (!member)
        {
            if (S.Conversations.Remove(conversation))
            {
                S.AddedBy.Remove(conversation);
                S.FormerConversations[conversation] = DateTimeOffset.UtcNow;
                if (S.FormerConversations.Count > limits.Value.MaxConversationsPerUser)
                    S.FormerConversations.Remove(S.FormerConversations.MinBy(f => f.Value).Key);
                await state.WriteStateAsync();
            }
            return;
        }
        if (S.Conversations.ContainsKey(conversation))
            return;
        S.FormerConversations.Remove(conversation); // back in it
        var byOther = by != UserId && by != Ids.SystemUser;
        if (byOther)
            RequireMayBePutInBy(by);
        else
            RequireRoomOfMyOwn();
        S.Conversations[conversation] = joinedAt;
        if (byOther)
            S.AddedBy[conversation] = by;
        await state.WriteStateAsync();
    }

    public async Task AddContactAsync(string user)
    {
        RequireCreated();
        await RequireOtherUserAsync(user);
        if (S.Contacts.Count >= limits.Value.MaxContactsPerUser && !S.Contacts.Contains(user))
            throw new ImException(ErrorCodes.LimitExceeded, $"at most {limits.Value.MaxContactsPerUser} contacts");
        if (!S.Contacts.Add(user))
            return;
        await state.WriteStateAsync();
        await GrainFactory.Ref<IUserGrain>(user).SetContactOfAsync(UserId, true);
        if (SharesPresenceWith(user))
            await GrainFactory.Ref<IUserGrain>(user).OnContactPresenceAsync(PresenceFor());
    }

    public async Task RemoveContactAsync(string user)
    {
        RequireCreated();
        if (!S.Contacts.Remove(user))
            return;
        await state.WriteStateAsync();
        await GrainFactory.Ref<IUserGrain>(user).SetContactOfAsync(UserId, false);
    }

    public Task<IReadOnlyList<string>> ListContactsAsync() =>
        Task.FromResult<IReadOnlyList<string>>(S.Contacts.Order(StringComparer.Ordinal).ToList());

    public async Task SetContactOfAsync(string user, bool added)
    {
        // Others fill this set, so it is capped too; past the cap a new contact simply sees no presence.
        if (added && S.ContactOf.Count >= limits.Value.MaxContactsPerUser)
            return;
        var changed = added ? S.ContactOf.Add(user) : S.ContactOf.Remove(user);
        if (!changed)
            return;
        await state.WriteStateAsync();
        // The other side just made the relation mutual: let them see us at once.
        if (added && SharesPresenceWith(user))
            await GrainFactory.Ref<IUserGrain>(user).OnContactPresenceAsync(PresenceFor());
    }

    public async Task BlockAsync(string user)
    {
        RequireCreated();
        await RequireOtherUserAsync(user);
        if (S.Blocked.Count >= limits.Value.MaxContactsPerUser && !S.Blocked.Contains(user))
            throw new ImException(ErrorCodes.LimitExceeded, $"at most {limits.Value.MaxContactsPerUser} blocked users");
        if (!S.Blocked.Add(user))
            return;
        await state.WriteStateAsync();
        await GrainFactory.Ref<IConversationGrain>(Ids.Direct(UserId, user)).SetBlockedAsync(UserId, user, true);
    }

    public async Task UnblockAsync(string user)
    {
        RequireCreated();
        if (!S.Blocked.Remove(user))
            return;
        await state.WriteStateAsync();
        await GrainFactory.Ref<IConversationGrain>(Ids.Direct(UserId, user)).SetBlockedAsync(UserId, user, false);
    }

    public Task<IReadOnlyList<string>> ListBlockedAsync() =>
        Task.FromResult<IReadOnlyList<string>>(S.Blocked.Order(StringComparer.Ordinal).ToList());

    public async Task SetPresenceAsync(string status, string? text)
    {
        RequireCreated();
        if (!PresenceStatus.Settable.Contains(status))
            throw new ImException(ErrorCodes.BadRequest, $"status must be one of {string.Join(", ", PresenceStatus.Settable)}");
        if (text is { Length: > 200 })
            throw new ImException(ErrorCodes.LimitExceeded, "status text is limited to 200 characters");
        var before = VisibleStatus;
        var textChanged = S.StatusText != text;
        S.Status = status;
        S.StatusText = text;
        await state.WriteStateAsync();
        if (before != VisibleStatus || textChanged)
            await BroadcastPresenceAsync();
    }

    public Task<PresenceInfo> GetPresenceAsync(string? viewer)
    {
        if (viewer is null || viewer == UserId)
            return Task.FromResult(new PresenceInfo(UserId, _onlineDevices.Count == 0 ? PresenceStatus.Offline : S.Status, S.StatusText, S.LastSeen));
        return Task.FromResult(SharesPresenceWith(viewer)
            ? PresenceFor()
            : new PresenceInfo(UserId, PresenceStatus.Offline, null, null));
    }

    public async Task<IReadOnlyDictionary<string, long>> ConnectDeviceAsync(string device, IGatewayObserver gateway)
    {
        // A new device goes online at once: the conversations hear of the route once, from going online.
        AddDevice(device);
        await SetDeviceOnlineAsync(device, gateway);
        return await GetJoinedAtAsync();
    }

    public async Task<bool> SetDeviceOnlineAsync(string device, IGatewayObserver? gateway)
    {
        if (gateway is not null)
            RequireEnabled(); // asked by every lease renewal too, so no session of a disabled account lasts
        var before = VisibleStatus;
        bool changed;
        if (gateway is null)
            changed = _onlineDevices.Remove(device);
        else if (_onlineDevices.TryGetValue(device, out var known) && known.Equals(gateway))
            changed = false;
        else
            (_onlineDevices[device], changed) = (gateway, true);
        if (!changed)
            return false;
        if (gateway is not null)
            PushHooks.DeviceOnline(ServiceProvider, GrainFactory, UserId, device);
        if (gateway is null && _onlineDevices.Count == 0)
        {
            S.LastSeen = DateTimeOffset.UtcNow;
            await state.WriteStateAsync();
        }
        // Before the device replays: what is stored from now on reaches its gateway live, the rest is in the store.
        await RouteChangedAsync();
        // Coalesced: a second device coming online, or one of two going away, tells nobody anything.
        if (before != VisibleStatus)
            await BroadcastPresenceAsync();
        return true;
    }

    public Task<MemberRoute> WatchAsync(string conversation)
    {
        _watchers.Add(conversation);
        return Task.FromResult(Route());
    }

    public Task UnwatchAsync(string conversation)
    {
        _watchers.Remove(conversation);
        return Task.CompletedTask;
    }

    public Task OnMessageAsync(MessageRecord message)
    {
        PushHooks.MessageStored(ServiceProvider, GrainFactory, UserId, message, _onlineDevices.Keys);
        return Task.CompletedTask;
    }

    public Task OnContactPresenceAsync(PresenceInfo presence)
    {
        foreach (var gateway in _onlineDevices.Values.Distinct())
            _ = gateway.PresenceAsync(UserId, presence);
        return Task.CompletedTask;
    }

    private MemberRoute Route() => new(_routeVersion, _onlineDevices.Values.Distinct().ToList(),
        S.Devices.Any(d => !_onlineDevices.ContainsKey(d)));

    /// <summary>Tells the watching conversations where this user's devices are now, and waits for them (briefly).</summary>
    private async Task RouteChangedAsync()
    {
        _routeVersion = Math.Max(_routeVersion + 1, DateTime.UtcNow.Ticks);
        if (_watchers.Count == 0)
            return;
        var route = Route();
        await Task.WhenAll(_watchers.ToList().Select(async c =>
        {
            try
            {
                await GrainFactory.Ref<IConversationGrain>(c).SetRouteAsync(UserId, route).WaitAsync(RouteNoticeTimeout);
            }
            catch (Exception ex)
            {
                // Not fatal: the conversation reloads its routes periodically, and a device that misses live
                // traffic meanwhile catches up from the store at the next gap or lease renewal.
                log.LogWarning(ex, "Could not tell {Conversation} where the devices of {User} are", c, UserId);
            }
        }));
    }

    /// <summary>What contacts see: offline with no device connected, and invisible looks offline.</summary>
    private string VisibleStatus =>
        _onlineDevices.Count == 0 || S.Status == PresenceStatus.Invisible ? PresenceStatus.Offline : S.Status;

    private bool SharesPresenceWith(string other) =>
        S.Contacts.Contains(other) && S.ContactOf.Contains(other) && !S.Blocked.Contains(other);

    private PresenceInfo PresenceFor()
    {
        var status = VisibleStatus;
        return new PresenceInfo(UserId, status, status == PresenceStatus.Offline ? null : S.StatusText, S.LastSeen);
    }

    private Task BroadcastPresenceAsync()
    {
        foreach (var contact in S.Contacts.Where(SharesPresenceWith))
            _ = GrainFactory.Ref<IUserGrain>(contact).OnContactPresenceAsync(PresenceFor());
        return Task.CompletedTask;
    }

    private IDeviceGrain Device(string device) => GrainFactory.Ref<IDeviceGrain>(Ids.DeviceKey(UserId, device));

    private async Task RequireOtherUserAsync(string user)
    {
        Ids.RequireUser(user);
        if (user == UserId)
            throw new ImException(ErrorCodes.BadRequest, "that is you");
        if (!await GrainFactory.Ref<IUserGrain>(user).IsActiveAsync())
            throw new ImException(ErrorCodes.NotFound, $"user '{user}' does not exist");
    }

    private void RequireCreated()
    {
        if (!S.Created)
            throw new ImException(ErrorCodes.NotFound, $"user '{UserId}' does not exist");
    }

    private void RequireRoomOfMyOwn()
    {
        var own = S.Conversations.Count - S.AddedBy.Count;
        if (own >= limits.Value.MaxConversationsPerUser)
            throw new ImException(ErrorCodes.LimitExceeded, $"user '{UserId}' is in {own} conversations (limit {limits.Value.MaxConversationsPerUser})");
    }

    /// <summary>Others fill only their own share of this user's list, each of them a little of it, and not at all when
    /// blocked: nobody can lock a user out of conversations by putting it in groups and leaving them.</summary>
    private void RequireMayBePutInBy(string other)
    {
        if (S.Blocked.Contains(other))
            throw new ImException(ErrorCodes.Blocked, $"'{UserId}' blocks '{other}'");
        var l = limits.Value;
        if (S.AddedBy.Count >= l.MaxConversationsPerUser)
            throw new ImException(ErrorCodes.LimitExceeded, $"user '{UserId}' is in {S.AddedBy.Count} conversations that others put it in (limit {l.MaxConversationsPerUser})");
        var fromOther = S.AddedBy.Values.Count(a => a == other);
        if (fromOther >= l.MaxConversationsFromOneUser)
            throw new ImException(ErrorCodes.LimitExceeded, $"'{other}' has put '{UserId}' in {fromOther} conversations (limit {l.MaxConversationsFromOneUser})");
    }

    private void RequireEnabled()
    {
        if (S.Disabled)
            throw new ImException(ErrorCodes.Disabled, $"user '{UserId}' is disabled");
    }

    private void RequireStrong(string password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < limits.Value.MinPasswordLength)
            throw new ImException(ErrorCodes.WeakPassword, $"password must have at least {limits.Value.MinPasswordLength} characters");
        if (password.Length > 1024)
            throw new ImException(ErrorCodes.WeakPassword, "password is limited to 1024 characters");
    }
}
