using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

// Calls from user grains to device grains are [OneWay], and the reads other grains await are [AlwaysInterleave],
// so the common paths have no call cycle. One rare cycle remains: a user blocking someone (awaiting the direct
// conversation) while that conversation is being created (awaiting this user's SetMembership); both time out
// and a retry of the creation repairs the membership.

/// <summary>A user account: credentials, devices, contacts and blocks, conversation list, presence.</summary>
[Alias("im.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Creates the account; fails with already_exists or weak_password.</summary>
    [Alias("Create")] Task CreateAsync(string password);

    /// <summary>True when the account exists, is enabled and the password matches. Interleaves: the slow hash
    /// must not hold up the user's message fan-out.</summary>
    [AlwaysInterleave, Alias("VerifyPassword")] Task<bool> VerifyPasswordAsync(string password);

    /// <summary>Replaces the password.</summary>
    [Alias("SetPassword")] Task SetPasswordAsync(string password);

    /// <summary>Disables or re-enables the account; disabling ends its sessions, and it cannot log in again.</summary>
    [Alias("SetDisabled")] Task SetDisabledAsync(bool disabled);

    /// <summary>Erases the account (the right to erasure): its messages become tombstones in every conversation, it
    /// leaves them, its devices (and their push tokens) go, and the account is gone. The id stays taken, so that
    /// nobody inherits its tokens or conversations.</summary>
    [Alias("Erase")] Task EraseAsync();

    /// <summary>The account as others may see it (Exists=false when there is none).</summary>
    [AlwaysInterleave, Alias("GetProfile")] Task<UserProfile> GetProfileAsync();

    /// <summary>True when the account exists and is not disabled.</summary>
    [AlwaysInterleave, Alias("IsActive")] Task<bool> IsActiveAsync();

    /// <summary>Records a device of this user; fails with limit_exceeded past the per-user device limit.</summary>
    [Alias("RegisterDevice")] Task RegisterDeviceAsync(string device);

    /// <summary>Forgets a device: its session ends, its cursors go, and it no longer counts against the limit.</summary>
    [Alias("RemoveDevice")] Task RemoveDeviceAsync(string device);

    /// <summary>The user's conversations with the latest seq of each.</summary>
    [Alias("ListConversations")] Task<IReadOnlyList<ConversationSummary>> ListConversationsAsync();

    /// <summary>What changed in this user's conversations after <paramref name="since"/> (everything, when null).</summary>
    [Alias("SyncDelta")] Task<StateDelta> SyncDeltaAsync(DateTimeOffset? since);

    /// <summary>Called by a conversation when this user joins (at seq <paramref name="joinedAt"/>) or leaves it, on the
    /// action of <paramref name="by"/>. A join by another user is refused with blocked when this user blocks them, and
    /// with limit_exceeded past the share of this user's list that others may fill, or that one other user may fill.</summary>
    [Alias("SetMembership")] Task SetMembershipAsync(string conversation, bool member, long joinedAt, string by);

    /// <summary>Conversation id → the seq when this user joined; a new device starts delivery there.</summary>
    [AlwaysInterleave, Alias("GetJoinedAt")] Task<IReadOnlyDictionary<string, long>> GetJoinedAtAsync();

    [Alias("AddContact")] Task AddContactAsync(string user);
    [Alias("RemoveContact")] Task RemoveContactAsync(string user);
    [Alias("ListContacts")] Task<IReadOnlyList<string>> ListContactsAsync();

    /// <summary>Called by another user when they add or remove this user as a contact.</summary>
    [OneWay, Alias("SetContactOf")] Task SetContactOfAsync(string user, bool added);

    [Alias("Block")] Task BlockAsync(string user);
    [Alias("Unblock")] Task UnblockAsync(string user);
    [Alias("ListBlocked")] Task<IReadOnlyList<string>> ListBlockedAsync();

    /// <summary>Sets the explicit status (online, away, busy, invisible) and free text.</summary>
    [Alias("SetPresence")] Task SetPresenceAsync(string status, string? text);

    /// <summary>This user's presence as <paramref name="viewer"/> may see it (offline unless mutual contacts).</summary>
    [AlwaysInterleave, Alias("GetPresence")] Task<PresenceInfo> GetPresenceAsync(string? viewer);

    /// <summary>Called by a device grain when one of this user's devices connects through <paramref name="gateway"/>
    /// (or disconnects: null). Returns once the conversations that route to this user know, so that what is stored
    /// afterwards reaches the device live. True when this changed what the user grain knew.</summary>
    [Alias("SetDeviceOnline")] Task<bool> SetDeviceOnlineAsync(string device, IGatewayObserver? gateway);

    /// <summary>A device grain binds a new connection: <see cref="RegisterDeviceAsync"/> and
    /// <see cref="SetDeviceOnlineAsync"/> in one call, returning what <see cref="GetJoinedAtAsync"/> would, for the
    /// connection's first catch-up. One call instead of three, on the path every connect takes.</summary>
    [Alias("ConnectDevice")] Task<IReadOnlyDictionary<string, long>> ConnectDeviceAsync(string device, IGatewayObserver gateway);

    /// <summary>A conversation asks where this user's devices are, and to be told of changes until it stops watching.
    /// Interleaves: it only reads, and a conversation asks while this grain may be waiting on it.</summary>
    [AlwaysInterleave, Alias("Watch")] Task<MemberRoute> WatchAsync(string conversation);

    /// <summary>The conversation no longer needs this user's route (it deactivated, or the user left it).</summary>
    [OneWay, AlwaysInterleave, Alias("Unwatch")] Task UnwatchAsync(string conversation);

    /// <summary>A message was stored for this user while some of its devices are offline (the hook for push).</summary>
    [OneWay, Alias("OnMessage")] Task OnMessageAsync(MessageRecord message);

    /// <summary>A contact's presence changed.</summary>
    [OneWay, Alias("OnContactPresence")] Task OnContactPresenceAsync(PresenceInfo presence);
}
