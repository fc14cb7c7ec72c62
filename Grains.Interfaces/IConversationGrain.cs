using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans;

/// <summary>A conversation: members and roles, ordering and persistence of messages, read marks.
/// <c>by</c>/<c>user</c> arguments name the acting user; <see cref="Ids.SystemUser"/> acts with every right.</summary>
[Alias("im.IConversationGrain")]
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Creates (or returns) the direct conversation of two users; the key must be <see cref="Ids.Direct"/>.</summary>
    [Alias("CreateDirect")] Task<ConversationInfo> CreateDirectAsync(string by, string a, string b);

    /// <summary>Creates a group owned by <paramref name="owner"/>.</summary>
    [Alias("CreateGroup")] Task<ConversationInfo> CreateGroupAsync(string owner, string? title, IReadOnlyList<string> members);

    /// <summary>The conversation, if <paramref name="by"/> is a member.</summary>
    [Alias("Get")] Task<ConversationInfo> GetAsync(string by);

    /// <summary>This conversation as an entry of <paramref name="user"/>'s list.</summary>
    [AlwaysInterleave, Alias("GetSummary")] Task<ConversationSummary?> GetSummaryAsync(string user);

    /// <summary>The seq after which <paramref name="user"/>'s devices get this conversation's messages (where it last
    /// joined), or null when it is not a member. The conversation decides this, not the user's list.</summary>
    /// <summary>This conversation's state for <paramref name="user"/> if it changed after <paramref name="since"/> (or
    /// always, when null); null when unchanged or when the user is not a member.</summary>
    [AlwaysInterleave, Alias("GetDelta")] Task<ConversationDelta?> GetDeltaAsync(string user, DateTimeOffset? since);

    [AlwaysInterleave, Alias("GetJoinPoint")] Task<long?> GetJoinPointAsync(string user);

    [Alias("AddMembers")] Task<ConversationInfo> AddMembersAsync(string by, IReadOnlyList<string> users);
    [Alias("RemoveMembers")] Task<ConversationInfo> RemoveMembersAsync(string by, IReadOnlyList<string> users);
    [Alias("Leave")] Task LeaveAsync(string user);
    [Alias("SetRole")] Task<ConversationInfo> SetRoleAsync(string by, string user, MemberRole role);

    /// <summary>Orders and stores a message; returns only once it is durable. Idempotent by (sender, client id), so a
    /// caller may give up on an attempt (<paramref name="cancellationToken"/>, which also drops it if it is still
    /// queued here) and repeat it. <paramref name="attachments"/> were checked (uploaded by the sender) by the caller.</summary>
    [Alias("Send")] Task<SendResult> SendAsync(string from, string device, string clientMessageId, string body,
        IReadOnlyList<AttachmentInfo>? attachments = null, CancellationToken cancellationToken = default);

    /// <summary>Keeps this conversation's messages <paramref name="days"/> days, or as the server says when null. Group
    /// owners and admins (and the system, in any conversation) may set it.</summary>
    [Alias("SetRetention")] Task SetRetentionAsync(string by, int? days);

    /// <summary>Orders and stores an entry of the log (a message, edit, delete or reaction: docs/protocol.md §16) exactly as
    /// <see cref="SendAsync"/> does a message, after checking that <paramref name="from"/> may make it. Idempotent by
    /// (sender, client id).</summary>
    [Alias("Post")] Task<SendResult> PostAsync(string from, string device, string clientMessageId, EntryRequest entry,
        CancellationToken cancellationToken = default);

    /// <summary>Orders and stores plain messages (no kind, no attachments) of one sender, in their order, with one append:
    /// what a connection sent while its earlier messages were being stored. Idempotent by (sender, client id) like
    /// <see cref="PostAsync"/>. A refused sender fails the call; a bad message gets its own outcome and leaves the
    /// others be. At most <see cref="NewMessage.MaxPerCall"/> messages.</summary>
    [Alias("PostMany")] Task<IReadOnlyList<PostOutcome>> PostManyAsync(string from, string device, IReadOnlyList<NewMessage> messages,
        CancellationToken cancellationToken = default);

    /// <summary>Messages whose text matches every word of <paramref name="text"/>, newest first, below
    /// <paramref name="beforeSeq"/>; for members.</summary>
    [Alias("Search")] Task<IReadOnlyList<MessageRecord>> SearchAsync(string by, string text, long? beforeSeq, int limit);

    /// <summary>The account of <paramref name="user"/> is being erased: its messages here become tombstones, an erase
    /// entry tells the devices, and it stops being a member. Called by the user grain, which clears its own list.</summary>
    [Alias("EraseUser")] Task EraseUserAsync(string user);

    /// <summary>A page of history, oldest first.</summary>
    [Alias("History")] Task<IReadOnlyList<MessageRecord>> HistoryAsync(string by, HistoryQuery query);

    /// <summary>Marks everything up to <paramref name="seq"/> read by <paramref name="user"/>. Idempotent (a mark only
    /// moves forward), so a caller may give up on an attempt and repeat it.</summary>
    [Alias("MarkRead")] Task MarkReadAsync(string user, string device, long seq, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="user"/> is a member and a message here still names the attachment (one deleted
    /// for everyone no longer does). Interleaves: a read.</summary>
    [AlwaysInterleave, Alias("MayReadAttachment")] Task<bool> MayReadAttachmentAsync(string user, string attachmentId);

    /// <summary>Every member's read mark, for a member (or the system) to see.</summary>
    [AlwaysInterleave, Alias("GetReadMarks")] Task<IReadOnlyDictionary<string, long>> GetReadMarksAsync(string by);

    /// <summary>A device of <paramref name="user"/> acknowledged messages up to <paramref name="seq"/>.</summary>
    [OneWay, Alias("MarkDelivered")] Task MarkDeliveredAsync(string user, long seq);

    /// <summary>The user's account was disabled: its next send here asks the user grain again (and is refused).</summary>
    [OneWay, Alias("ForgetSender")] Task ForgetSenderAsync(string user);

    /// <summary>A member's devices moved (connected, disconnected): where to fan out to from now on. Interleaves: it only
    /// updates the route table, and the user grain waits on it while connecting a device.</summary>
    [AlwaysInterleave, Alias("SetRoute")] Task SetRouteAsync(string user, MemberRoute route);

    /// <summary>Tells the other members that <paramref name="user"/> is typing. Not stored.</summary>
    [Alias("Typing")] Task TypingAsync(string user, string device);

    /// <summary>Records that <paramref name="blocker"/> blocks (or unblocks) <paramref name="blocked"/> here.</summary>
    [Alias("SetBlocked")] Task SetBlockedAsync(string blocker, string blocked, bool isBlocked);
}
