using ImOrleans.Grains.Push;
using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Conversations;

public sealed partial class ConversationGrain(
    [PersistentState("conversation", GrainStorage.Name)] IPersistentState<ConversationState> state,
    IMessageStore store,
    IOptions<ChatLimits> limitOptions,
    ILogger<ConversationGrain> log) : Grain, IConversationGrain
{
    private const int MaxHistoryPage = 200;
    private static readonly TimeSpan ReadMarkFlushDelay = TimeSpan.FromSeconds(1);

    private readonly ChatLimits _limits = limitOptions.Value;
    private readonly RecentMessages _recent = new(limitOptions.Value.DedupWindow);
    private readonly Dictionary<string, long> _deliveredMarks = [];

    // Senders whose account was found active; cleared for a user by ForgetSenderAsync when it is disabled.
    private readonly HashSet<string> _activeSenders = [];

    // Delivered marks are told at most once per DeliveredDelay per user, carrying the highest seq: one event
    // per message acked would double the traffic of a busy chat for ticks nobody reads one by one.
    private static readonly TimeSpan DeliveredDelay = TimeSpan.FromMilliseconds(500);
    private readonly HashSet<string> _deliveredToTell = [];
    private IGrainTimer? _deliveredTimer;

    // Where each member's devices are connected, and the same grouped by gateway (built when needed). Null until
    // the first fan-out asks the members (Watch); kept current by the user grains (SetRoute) from then on.
    private Dictionary<string, MemberRoute>? _routes;
    private Dictionary<IGatewayObserver, List<string>>? _byGateway;
    private IGrainTimer? _routeRefresh;

    // The last message handed to the gateways. A member's route can reach us after a message its device did not
    // read from the store yet (a slow notice): that device's gateway is handed this one when the route arrives,
    // and the gap it shows makes the device read what it missed.
    private MessageRecord? _lastFannedOut;

    // Whether push is on in this silo: looked up once, not per message.
    private bool? _pushEnabled;

    // Routes are asked for again this often: a user grain that was reactivated (a silo failure) does not know who
    // watched it, so its changes reach us at the next reload.
    private static readonly TimeSpan RouteRefreshInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RouteAskTimeout = TimeSpan.FromSeconds(5);

    // Members whose route could not be asked (those missing from _routes) are asked again after RouteRetryDelay, not
    // only at the next reload, since until then none of their devices gets live traffic from here.
    private static readonly TimeSpan RouteRetryDelay = TimeSpan.FromSeconds(2);
    private IGrainTimer? _routeRetry;

    // Null until read from the store: after a failed append we cannot know whether it committed.
    private long? _lastSeq;
    private DeferredWrite? _readMarkWrite;

    private string Id => this.GetPrimaryKeyString();
    private ConversationState S => state.State;

    // Read marks are written within a second, not per mark: a big group marks often, and a mark lost in a crash
    // is only re-sent by the client later.
    private DeferredWrite ReadMarkWrite => _readMarkWrite ??= new(this, state.WriteStateAsync, ReadMarkFlushDelay);

    public override async Task OnActivateAsync(CancellationToken ct)
    {
        if (S.Created)
            await LoadTailAsync(ct);
    }

    public async Task<ConversationInfo> CreateDirectAsync(string by, string a, string b)
    {
        Ids.RequireUser(a);
        Ids.RequireUser(b);
        if (a == b)
            throw new ImException(ErrorCodes.BadRequest, "a direct conversation needs two different users");
        if (Id != Ids.Direct(a, b))
            throw new ImException(ErrorCodes.InvalidId, $"the direct conversation of '{a}' and '{b}' is '{Ids.Direct(a, b)}'");
        if (by != Ids.SystemUser && by != a && by != b)
            throw new ImException(ErrorCodes.Forbidden, "only a participant can open a direct conversation");
        if (S.Created)
        {
            // Idempotent, and a repair: a user whose list missed this conversation (a failed call) gets it now.
            await Task.WhenAll(S.Members.Keys.Select(u => User(u).SetMembershipAsync(Id, true, 0, by)));
            return Info();
        }
        if (S.BlockedBy.Count > 0)
            throw new ImException(ErrorCodes.Blocked, "one of the users blocks the other");
        await RequireActiveUsersAsync([a, b]);

        // The users' lists first: if this fails, nothing exists yet, and a retry starts over.
        await JoinAsync([a, b], 0, by);
        S.Created = true;
        S.Kind = ConversationKind.Direct;
        S.CreatedAt = S.ChangedAt = DateTimeOffset.UtcNow;
        S.Members[a] = MemberRole.Member;
        S.Members[b] = MemberRole.Member;
        await state.WriteStateAsync();
        _lastSeq = 0;
        await TellAddedAsync([a, b], by);
        return Info();
    }

    public async Task<ConversationInfo> CreateGroupAsync(string owner, string? title, IReadOnlyList<string> members)
    {
        if (!Id.StartsWith("g-", StringComparison.Ordinal) || !Ids.IsValidConversation(Id))
            throw new ImException(ErrorCodes.InvalidId, $"'{Id}' is not a group id");
        if (S.Created)
            throw new ImException(ErrorCodes.AlreadyExists, $"conversation '{Id}' already exists");
        Ids.RequireUser(owner, "owner");
        RequireTitle(title);
        var all = members.Append(owner).Distinct().ToList();
        foreach (var m in all)
            Ids.RequireUser(m, "member");
        if (all.Count > _limits.MaxGroupMembers)
            throw new ImException(ErrorCodes.LimitExceeded, $"a group has at most {_limits.MaxGroupMembers} members ({all.Count} asked)");
        await RequireActiveUsersAsync(all);

        await JoinAsync(all, 0, owner);
        S.Created = true;
        S.Kind = ConversationKind.Group;
        S.Title = title;
        S.CreatedAt = S.ChangedAt = DateTimeOffset.UtcNow;
        foreach (var m in all)
            S.Members[m] = m == owner ? MemberRole.Owner : MemberRole.Member;
        await state.WriteStateAsync();
        _lastSeq = 0;
        await TellAddedAsync(all, owner);
        return Info();
    }

    public Task<ConversationInfo> GetAsync(string by)
    {
        RequireMember(by);
        return Task.FromResult(Info());
    }

    public Task<ConversationSummary?> GetSummaryAsync(string user) =>
        Task.FromResult(S.Created && S.Members.ContainsKey(user)
            ? new ConversationSummary(Id, S.Kind, S.Title, _lastSeq ?? 0, S.ReadMarks.GetValueOrDefault(user))
            : null);

    public Task<ConversationDelta?> GetDeltaAsync(string user, DateTimeOffset? since)
    {
        if (!S.Created || !S.Members.ContainsKey(user) || (since is { } t && S.ChangedAt <= t))
            return Task.FromResult<ConversationDelta?>(null);
        // Everyone's marks where read events go to everyone; in bigger groups the user's own (its other devices').
        var marks = S.Members.Count <= _limits.MaxGroupForReadEvents
            ? new Dictionary<string, long>(S.ReadMarks)
            : S.ReadMarks.Where(m => m.Key == user).ToDictionary();
        return Task.FromResult<ConversationDelta?>(new ConversationDelta(Info(), marks));
    }

    public Task<long?> GetJoinPointAsync(string user) =>
        Task.FromResult(S.Created && S.Members.ContainsKey(user) ? S.JoinedAt.GetValueOrDefault(user) : (long?)null);

    public async Task<ConversationInfo> AddMembersAsync(string by, IReadOnlyList<string> users)
    {
        RequireGroup();
        RequireRole(by, MemberRole.Admin, "add members");
        var added = users.Distinct().Where(u => !S.Members.ContainsKey(u)).ToList();
        // Members asked for again may have missed their list entry (a failed call): a repeat repairs it.
        var again = users.Distinct().Where(S.Members.ContainsKey).ToList();
        if (again.Count > 0)
            await Task.WhenAll(again.Select(u => User(u).SetMembershipAsync(Id, true, 0, by)));
        foreach (var u in added)
            Ids.RequireUser(u, "member");
        if (S.Members.Count + added.Count > _limits.MaxGroupMembers)
            throw new ImException(ErrorCodes.LimitExceeded, $"a group has at most {_limits.MaxGroupMembers} members");
        if (added.Count == 0)
            return Info();
        await RequireActiveUsersAsync(added);

        var joinedAt = await LastSeqAsync();
        await JoinAsync(added, joinedAt, by);
        foreach (var u in added)
        {
            S.Members[u] = MemberRole.Member;
            S.JoinedAt[u] = joinedAt;
        }
        S.ChangedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        if (_routes is not null)
            await WatchAsync(added);
        foreach (var u in added)
            await BroadcastAsync(new ConversationEvent(EventTypes.MemberAdded, Id, u, By: by), MembershipAudience(u, by));
        await TellAddedAsync(added, by);
        return Info();
    }

    public async Task<ConversationInfo> RemoveMembersAsync(string by, IReadOnlyList<string> users)
    {
        RequireGroup();
        RequireRole(by, MemberRole.Admin, "remove members");
        var removed = users.Distinct().Where(S.Members.ContainsKey).ToList();
        foreach (var u in removed)
        {
            // Admins remove plain members; only the owner (or the system) removes admins; nobody removes the owner.
            var role = S.Members[u];
            if (role == MemberRole.Owner)
                throw new ImException(ErrorCodes.Forbidden, "the owner cannot be removed; transfer ownership first");
            if (role == MemberRole.Admin && by != Ids.SystemUser && S.Members[by] != MemberRole.Owner)
                throw new ImException(ErrorCodes.Forbidden, "only the owner can remove an admin");
        }
        await RemoveAsync(removed, by);
        return Info();
    }

    public async Task LeaveAsync(string user)
    {
        RequireGroup();
        RequireMember(user);
        if (S.Members[user] == MemberRole.Owner)
        {
            // Ownership passes to an admin if there is one, else to any member, so a group always has an owner.
            var heir = S.Members.Where(m => m.Key != user)
                .OrderByDescending(m => m.Value).ThenBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => m.Key).FirstOrDefault();
            if (heir is not null)
                S.Members[heir] = MemberRole.Owner;
        }
        await RemoveAsync([user], user);
    }

    public async Task<ConversationInfo> SetRoleAsync(string by, string user, MemberRole role)
    {
        RequireGroup();
        RequireRole(by, MemberRole.Owner, "change roles");
        if (!S.Members.TryGetValue(user, out var current))
            throw new ImException(ErrorCodes.NotMember, $"'{user}' is not a member");
        if (current == role)
            return Info();
        if (current == MemberRole.Owner)
            throw new ImException(ErrorCodes.Forbidden, "make another member owner instead");
        if (role == MemberRole.Owner)
        {
            foreach (var owner in S.Members.Where(m => m.Value == MemberRole.Owner).Select(m => m.Key).ToList())
                S.Members[owner] = MemberRole.Admin;
        }
        S.Members[user] = role;
        S.ChangedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        return Info();
    }

    public Task<SendResult> SendAsync(string from, string device, string clientMessageId, string body,
        IReadOnlyList<AttachmentInfo>? attachments = null, CancellationToken cancellationToken = default) =>
        PostAsync(from, device, clientMessageId, EntryRequest.Message(body, attachments: attachments), cancellationToken);

    // The token only lets a caller that gave up drop the call while it waits in this grain's queue: once running, a
    // post finishes, so its outcome is known here (a retry with the same id then finds it).
    public async Task<SendResult> PostAsync(string from, string device, string clientMessageId, EntryRequest entry,
        CancellationToken cancellationToken = default)
    {
        await RequireMaySendAsync(from, entry?.Kind);
        CheckRequest(clientMessageId, entry!);

        // The tail first: after an append whose outcome was unknown it is reloaded from the store, and the
        // dedup window with it, so a retry finds the message if that append did commit.
        var last = await LastSeqAsync();
        if (_recent.Find(from, clientMessageId) is { } storedSeq)
        {
            var stored = await ReadStoredAsync(storedSeq);
            await RefoldAsync(stored);
            return new SendResult(stored, Duplicate: true);
        }

        var draft = new MessageRecord(Id, last + 1, clientMessageId, from, device ?? "", entry!.Body, Now(),
            Attachments: entry.Attachments is { Count: > 0 } ? entry.Attachments : null);
        var (record, fold) = await CheckAsync(draft, entry);
        await AppendAsync([record]);
        await FoldAsync(fold);
        return new SendResult(record, Duplicate: false);
    }

    // One call and one append for messages a connection sent while its earlier ones were being stored: what the
    // sender is refused (not a member, blocked, disabled) fails the call; what is wrong with one message fails that one.
    public async Task<IReadOnlyList<PostOutcome>> PostManyAsync(string from, string device, IReadOnlyList<NewMessage> messages,
        CancellationToken cancellationToken = default)
    {
        await RequireMaySendAsync(from, null);
        if (messages.Count > NewMessage.MaxPerCall)
            throw new ImException(ErrorCodes.LimitExceeded, $"at most {NewMessage.MaxPerCall} messages in one call");
        var last = await LastSeqAsync();
        var now = Now();
        var outcomes = new PostOutcome[messages.Count];
        var fresh = new List<(int Index, MessageRecord Record)>();
        var repeats = new List<(int Index, int Of)>(); // the same id twice in one call: the second is a duplicate
        for (var i = 0; i < messages.Count; i++)
        {
            var (id, entry) = (messages[i].ClientMessageId, messages[i].Entry);
            try
            {
                CheckRequest(id, entry);
                if (entry.Kind is not null || entry.Attachments is { Count: > 0 })
                    throw new ImException(ErrorCodes.BadRequest, "only plain messages without attachments are posted together");
                if (_recent.Find(from, id) is { } storedSeq)
                    outcomes[i] = new PostOutcome(new SendResult(await ReadStoredAsync(storedSeq), Duplicate: true));
                else if (fresh.FindIndex(f => f.Record.Id == id) is var of and >= 0)
                    repeats.Add((i, of));
                else
                    fresh.Add((i, (await CheckAsync(new MessageRecord(Id, last + 1 + fresh.Count, id, from, device ?? "", entry.Body, now), entry)).Record));
            }
            catch (ImException ex)
            {
                outcomes[i] = new PostOutcome(null, ex.Code, ex.Message);
            }
        }
        if (fresh.Count > 0)
            await AppendAsync(fresh.ConvertAll(f => f.Record));
        foreach (var (index, record) in fresh)
            outcomes[index] = new PostOutcome(new SendResult(record, Duplicate: false));
        foreach (var (index, of) in repeats)
            outcomes[index] = new PostOutcome(new SendResult(fresh[of].Record, Duplicate: true));
        return outcomes;
    }

    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private async Task<MessageRecord> ReadStoredAsync(long seq) => (await store.ReadAfterAsync(Id, seq - 1, 1))[0];

    /// <summary>What a sender must be to add to the log: a member of a created conversation that is not blocked (a
    /// blocked pair can still take back what it said), of an account that is enabled.</summary>
    private async Task RequireMaySendAsync(string from, string? kind)
    {
        RequireCreated();
        if (from != Ids.SystemUser)
            RequireMember(from);
        if (S.Kind == ConversationKind.Direct && S.BlockedBy.Count > 0 && kind != EntryKinds.Delete)
            throw new ImException(ErrorCodes.Blocked, "this conversation is blocked");
        // A session of a disabled account can outlive the disabling until its next lease renewal, so sends are
        // checked too: once per sender and activation, not per message (that would add a grain call to the hot
        // path, and make every send wait on the silo of its sender's user grain); disabling makes us ask again.
        if (from != Ids.SystemUser && !_activeSenders.Contains(from))
        {
            if (!await User(from).IsActiveAsync())
                throw new ImException(ErrorCodes.Disabled, $"user '{from}' is disabled");
            _activeSenders.Add(from);
        }
    }

    /// <summary>The checks of one entry that need nothing from the log.</summary>
    private void CheckRequest(string clientMessageId, EntryRequest entry)
    {
        if (string.IsNullOrEmpty(clientMessageId) || clientMessageId.Length > _limits.MaxClientIdLength)
            throw new ImException(ErrorCodes.BadPayload, $"a message needs an id of 1-{_limits.MaxClientIdLength} characters");
        if (entry?.Body is null)
            throw new ImException(ErrorCodes.BadPayload, "a message needs a body");
        if (!EntryKinds.IsClientKind(entry.Kind))
            throw new ImException(ErrorCodes.BadRequest, $"'{entry.Kind}' is not a kind of entry a client may send");
        if (entry.Body.Length > _limits.MaxBodyLength)
            throw new ImException(ErrorCodes.LimitExceeded, $"message body is limited to {_limits.MaxBodyLength} characters");
        if (entry.Attachments is { Count: var n } && n > _limits.MaxAttachmentsPerMessage)
            throw new ImException(ErrorCodes.LimitExceeded, $"a message carries at most {_limits.MaxAttachmentsPerMessage} attachments");
        if (entry.Attachments is { Count: > 0 } && entry.Kind is not null)
            throw new ImException(ErrorCodes.BadRequest, "only a message carries attachments");
    }

    /// <summary>Stores entries (one transaction) and hands them to the members' devices: the one path of everything in the log.</summary>
    private async Task AppendAsync(List<MessageRecord> messages)
    {
        try
        {
            await store.AppendAllAsync(messages);
        }
        catch (Exception ex)
        {
            _lastSeq = null;
            log.LogError(ex, "Append of {Conversation}#{First}-{Last} failed", Id, messages[0].Seq, messages[^1].Seq);
            throw new ImException(ErrorCodes.Unavailable, "the message store is unavailable; retry with the same id");
        }
        _lastSeq = messages[^1].Seq;
        foreach (var message in messages)
            _recent.Add(message);
        await FanOutAsync(messages);
    }

    public async Task SetRetentionAsync(string by, int? days)
    {
        if (by != Ids.SystemUser)
        {
            RequireGroup();
            RequireRole(by, MemberRole.Admin, "set retention");
        }
        RequireCreated();
        if (days is < 1 or > ChatLimits.MaxRetentionDays)
            throw new ImException(ErrorCodes.BadRequest, $"retention must be 1 to {ChatLimits.MaxRetentionDays} days, or null for the server's");
        // The store first: the sweep reads it there, and a retry after a failure repeats both.
        await store.SetRetentionAsync(Id, days);
        S.RetentionDays = days;
        await state.WriteStateAsync();
    }

    public async Task<IReadOnlyList<MessageRecord>> HistoryAsync(string by, HistoryQuery query)
    {
        RequireMember(by);
        var limit = Math.Clamp(query.Limit, 1, MaxHistoryPage);
        if (query.Before is not null && query.After is not null)
            throw new ImException(ErrorCodes.BadRequest, "give 'before' or 'after', not both");
        return query.After is { } after
            ? await store.ReadAfterAsync(Id, after, limit)
            : await store.ReadBeforeAsync(Id, query.Before ?? long.MaxValue, limit);
    }

    public async Task MarkReadAsync(string user, string device, long seq, CancellationToken cancellationToken = default)
    {
        RequireMember(user);
        var last = await LastSeqAsync();
        if (seq < 0 || seq > last)
            throw new ImException(ErrorCodes.BadRequest, $"seq must be between 0 and {last}");
        if (seq <= S.ReadMarks.GetValueOrDefault(user))
            return;
        S.ReadMarks[user] = seq;
        S.ChangedAt = DateTimeOffset.UtcNow;
        ReadMarkWrite.Changed();
        // In a big group, telling every member of every mark is quadratic: there only the reader's other
        // devices hear of it, and members ask for the marks (conv.reads) when they want them.
        var evt = new ConversationEvent(EventTypes.Read, Id, user, seq);
        IEnumerable<string> told = S.Members.Count <= _limits.MaxGroupForReadEvents ? S.Members.Keys : [user];
        await BroadcastAsync(evt, told, exceptDevice: Ids.DeviceKey(user, device));
    }

    public async Task<bool> MayReadAttachmentAsync(string user, string attachmentId) =>
        S.Created && S.Members.ContainsKey(user) && await store.NamesAttachmentAsync(Id, attachmentId);

    public Task<IReadOnlyDictionary<string, long>> GetReadMarksAsync(string by)
    {
        RequireMember(by);
        return Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>(S.ReadMarks));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken ct)
    {
        // Not when the silo shuts down: its user grains are going too, and with no other silo each call failed to
        // be placed (thousands of errors in the log of a stop). A user grain elsewhere that still counts us as a
        // watcher only sends route notices, which a new activation ignores until its first fan-out asks afresh.
        if (_routes is not null && reason.ReasonCode != DeactivationReasonCode.ShuttingDown)
        {
            foreach (var member in _routes.Keys)
                _ = User(member).UnwatchAsync(Id);
        }
        return _readMarkWrite?.FlushAsync(ct) ?? Task.CompletedTask;
    }

    public Task SetRouteAsync(string user, MemberRoute route)
    {
        // Before the first fan-out nothing is kept: that fan-out asks every member afresh.
        if (_routes is not null)
            Apply(user, route);
        return Task.CompletedTask;
    }

    public Task MarkDeliveredAsync(string user, long seq)
    {
        // Delivery marks are kept in memory and sent only in direct conversations: in a group they would
        // multiply traffic by the member count, and a lost mark only means a late "delivered" tick.
        if (!S.Created || S.Kind != ConversationKind.Direct || !S.Members.ContainsKey(user))
            return Task.CompletedTask;
        if (seq <= _deliveredMarks.GetValueOrDefault(user))
            return Task.CompletedTask;
        _deliveredMarks[user] = seq;
        _deliveredToTell.Add(user);
        _deliveredTimer ??= this.RegisterGrainTimer(TellDeliveredAsync, DeliveredDelay, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    private async Task TellDeliveredAsync()
    {
        _deliveredTimer?.Dispose();
        _deliveredTimer = null;
        var told = _deliveredToTell.ToList();
        _deliveredToTell.Clear();
        foreach (var user in told)
        {
            var evt = new ConversationEvent(EventTypes.Delivered, Id, user, _deliveredMarks[user]);
            await BroadcastAsync(evt, S.Members.Keys.Where(m => m != user));
        }
    }

    public Task ForgetSenderAsync(string user)
    {
        _activeSenders.Remove(user);
        return Task.CompletedTask;
    }

    public async Task TypingAsync(string user, string device)
    {
        RequireMember(user);
        // Every keystroke would reach every member: in a big group, typing is not told at all (like read marks).
        if (S.Kind == ConversationKind.Group && S.Members.Count > _limits.MaxGroupForTypingEvents)
            return;
        await BroadcastAsync(new ConversationEvent(EventTypes.Typing, Id, user), S.Members.Keys.Where(m => m != user));
    }

    public async Task SetBlockedAsync(string blocker, string blocked, bool isBlocked)
    {
        if (Id != Ids.Direct(blocker, blocked))
            throw new ImException(ErrorCodes.BadRequest, "blocks apply to the direct conversation of the two users");
        var changed = isBlocked ? S.BlockedBy.Add(blocker) : S.BlockedBy.Remove(blocker);
        if (changed)
            await state.WriteStateAsync();
    }

    private async Task RemoveAsync(List<string> users, string by)
    {
        if (users.Count == 0)
            return;
        // Tell the leavers too, before they stop receiving this conversation's events.
        foreach (var u in users)
            await BroadcastAsync(new ConversationEvent(EventTypes.MemberRemoved, Id, u, By: by), MembershipAudience(u, by));
        // The users' lists first: should that fail, they stay members rather than go on replaying a
        // conversation they no longer belong to.
        await Task.WhenAll(users.Select(u => User(u).SetMembershipAsync(Id, false, 0, by)));
        foreach (var u in users)
        {
            S.Members.Remove(u);
            S.ReadMarks.Remove(u);
            S.JoinedAt.Remove(u);
            if (_routes?.Remove(u) == true)
                _ = User(u).UnwatchAsync(Id);
        }
        _byGateway = null;
        S.ChangedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
    }

    /// <summary>Puts the conversation on each user's list, on the action of <paramref name="by"/>, all or none: a
    /// user's list should name only conversations it belongs to (the devices ask the conversation all the same).</summary>
    private async Task JoinAsync(IReadOnlyCollection<string> users, long joinedAt, string by)
    {
        try
        {
            await Task.WhenAll(users.Select(u => User(u).SetMembershipAsync(Id, true, joinedAt, by)));
        }
        catch
        {
            await Task.WhenAll(users.Select(async u =>
            {
                try
                {
                    await User(u).SetMembershipAsync(Id, false, 0, by);
                }
                catch (Exception ex)
                {
                    log.LogError(ex, "Could not take {Conversation} off the list of {User} after a failed join", Id, u);
                }
            }));
            throw;
        }
    }

    /// <summary>Hands stored messages (one append's) to every gateway holding a member's device, in one call per
    /// gateway, and tells the members with devices offline (push).</summary>
    private async Task FanOutAsync(IReadOnlyList<MessageRecord> messages)
    {
        await EnsureRoutesAsync();
        _lastFannedOut = messages[^1];
        foreach (var (gateway, users) in ByGateway())
            _ = gateway.DeliverAsync(messages, users);
        if (!(_pushEnabled ??= PushHooks.Enabled(ServiceProvider)))
            return;
        // Only messages alert: an edit, a reaction or a delete is no news to wake a phone for.
        foreach (var message in messages.Where(m => m.Kind is null))
        {
            foreach (var (member, route) in _routes!)
            {
                // Never a push to the sender's own devices: it wrote the message.
                if (route.HasOfflineDevices && member != message.From)
                    _ = User(member).OnMessageAsync(message);
            }
        }
    }

    /// <summary>Tells <paramref name="users"/> (their devices) that they are now members here: without it an app learns
    /// of a new conversation only with its first message. One event for all of them, so one call per gateway.</summary>
    private Task TellAddedAsync(IEnumerable<string> users, string by) =>
        BroadcastAsync(new ConversationEvent(EventTypes.ConversationAdded, Id, by, By: by), users);

    /// <summary>Who hears that <paramref name="user"/> joined or left: every member (null) up to
    /// <see cref="ChatLimits.MaxGroupForMemberEvents"/>, else only that user and <paramref name="by"/>. One event per
    /// user to every member would make adding 100 users to a group of 1 000 a storm of 100 000 events.</summary>
    private string[]? MembershipAudience(string user, string by) =>
        S.Members.Count <= _limits.MaxGroupForMemberEvents ? null : by == user ? [user] : [user, by];

    /// <summary>An event for every member's connected devices (or only <paramref name="users"/>'), not stored.</summary>
    private async Task BroadcastAsync(ConversationEvent evt, IEnumerable<string>? users = null, string? exceptDevice = null)
    {
        await EnsureRoutesAsync();
        if (users is null)
        {
            foreach (var (gateway, members) in ByGateway())
                _ = gateway.EventAsync(evt, members, exceptDevice);
            return;
        }
        foreach (var (gateway, members) in Group(users))
            _ = gateway.EventAsync(evt, members, exceptDevice);
    }

    private Dictionary<IGatewayObserver, List<string>> ByGateway() => _byGateway ??= Group(S.Members.Keys);

    private Dictionary<IGatewayObserver, List<string>> Group(IEnumerable<string> users)
    {
        var byGateway = new Dictionary<IGatewayObserver, List<string>>();
        foreach (var user in users)
        {
            if (_routes!.TryGetValue(user, out var route))
            {
                foreach (var gateway in route.Gateways)
                {
                    if (!byGateway.TryGetValue(gateway, out var list))
                        byGateway[gateway] = list = [];
                    list.Add(user);
                }
            }
        }
        return byGateway;
    }

    /// <summary>Asks every member where its devices are, once per activation; from then on they tell us.</summary>
    private async Task EnsureRoutesAsync()
    {
        if (_routes is not null)
            return;
        _routes = [];
        await WatchAsync(S.Members.Keys.ToList());
        _routeRefresh ??= this.RegisterGrainTimer(() => WatchAsync(S.Members.Keys.ToList()),
            new GrainTimerCreationOptions(RouteRefreshInterval, RouteRefreshInterval) { Interleave = true });
    }

    private async Task WatchAsync(IReadOnlyCollection<string> users)
    {
        var routes = await Task.WhenAll(users.Select(async u =>
        {
            try
            {
                return await User(u).WatchAsync(Id).WaitAsync(RouteAskTimeout);
            }
            catch (Exception ex)
            {
                // Unknown for now: no live traffic to this member until the next reload; its devices catch up then.
                log.LogWarning(ex, "Could not ask {User} where its devices are for {Conversation}", u, Id);
                return null;
            }
        }));
        foreach (var (user, route) in users.Zip(routes))
        {
            if (route is not null)
                Apply(user, route);
        }
        if (routes.Any(r => r is null))
            _routeRetry ??= this.RegisterGrainTimer(AskUnknownRoutesAgainAsync, new GrainTimerCreationOptions(RouteRetryDelay, Timeout.InfiniteTimeSpan) { Interleave = true });
    }

    private Task AskUnknownRoutesAgainAsync()
    {
        _routeRetry?.Dispose();
        _routeRetry = null;
        return WatchAsync(S.Members.Keys.Where(m => !_routes!.ContainsKey(m)).ToList());
    }

    private void Apply(string user, MemberRoute route)
    {
        if (!S.Members.ContainsKey(user))
            return;
        if (_routes!.TryGetValue(user, out var known) && known.Version > route.Version)
            return;
        _routes[user] = route;
        _byGateway = null;
        if (_lastFannedOut is null)
            return;
        foreach (var gateway in route.Gateways)
        {
            if (known is null || !known.Gateways.Contains(gateway))
                _ = gateway.DeliverAsync([_lastFannedOut], [user]);
        }
    }

    private async Task<long> LastSeqAsync()
    {
        if (_lastSeq is null)
            await LoadTailAsync(CancellationToken.None);
        return _lastSeq!.Value;
    }

    /// <summary>Reads the last seq and the dedup window from the store: the store, not grain state, is the truth.</summary>
    private async Task LoadTailAsync(CancellationToken ct)
    {
        var last = await store.GetLastSeqAsync(Id, ct);
        _recent.Clear();
        foreach (var m in await store.ReadBeforeAsync(Id, last + 1, _limits.DedupWindow, ct))
            _recent.Add(m);
        _lastSeq = last;
    }

    private async Task RequireActiveUsersAsync(IEnumerable<string> users)
    {
        var list = users.ToList();
        var active = await Task.WhenAll(list.Select(u => User(u).IsActiveAsync()));
        var missing = list.Where((_, i) => !active[i]).ToList();
        if (missing.Count > 0)
            throw new ImException(ErrorCodes.NotFound, $"no such user: {string.Join(", ", missing)}");
    }

    private ConversationInfo Info() => new(
        Id, S.Kind, S.Title,
        S.Members.Select(m => new Member(m.Key, m.Value)).OrderByDescending(m => m.Role).ThenBy(m => m.User, StringComparer.Ordinal).ToList(),
        _lastSeq ?? 0);

    private IUserGrain User(string id) => GrainFactory.Ref<IUserGrain>(id);

    private void RequireCreated()
    {
        if (!S.Created)
            throw new ImException(ErrorCodes.NotFound, $"conversation '{Id}' does not exist");
    }

    private void RequireMember(string user)
    {
        RequireCreated();
        if (user != Ids.SystemUser && !S.Members.ContainsKey(user))
            throw new ImException(ErrorCodes.NotMember, $"'{user}' is not a member of '{Id}'");
    }

    private void RequireGroup()
    {
        RequireCreated();
        if (S.Kind != ConversationKind.Group)
            throw new ImException(ErrorCodes.BadRequest, "a direct conversation has exactly its two users");
    }

    private void RequireRole(string user, MemberRole atLeast, string what)
    {
        if (user == Ids.SystemUser)
            return;
        RequireMember(user);
        if (S.Members[user] < atLeast)
            throw new ImException(ErrorCodes.Forbidden, $"only {atLeast.ToString().ToLowerInvariant()}s can {what}");
    }

    private void RequireTitle(string? title)
    {
        if (title is { Length: var n } && n > _limits.MaxTitleLength)
            throw new ImException(ErrorCodes.LimitExceeded, $"title is limited to {_limits.MaxTitleLength} characters");
    }
}
