namespace ImOrleans.Grains;

/// <summary>Domain limits, bound from the <c>Limits</c> configuration section.</summary>
public sealed class ChatLimits
{
    public const string Section = "Limits";

    /// <summary>Members a group may have, owner included.</summary>
    public int MaxGroupMembers { get; set; } = 1000;

    /// <summary>Devices one user may register.</summary>
    public int MaxDevicesPerUser { get; set; } = 10;

    /// <summary>Conversations one user may be a member of by its own doing; as many again may be ones that other users
    /// put it in (creating a group with it, adding it, opening a direct conversation with it).</summary>
    public int MaxConversationsPerUser { get; set; } = 10_000;

    /// <summary>Conversations that any one other user may put a user in, so that nobody can fill someone else's list.
    /// 0: only the user itself and the system can.</summary>
    public int MaxConversationsFromOneUser { get; set; } = 100;

    /// <summary>Contacts (and blocked users) one user may have.</summary>
    public int MaxContactsPerUser { get; set; } = 5_000;

    /// <summary>Characters in a message body.</summary>
    public int MaxBodyLength { get; set; } = 16_000;

    /// <summary>Characters in a client message id.</summary>
    public int MaxClientIdLength { get; set; } = 64;

    /// <summary>Shortest password accepted.</summary>
    public int MinPasswordLength { get; set; } = 8;

    /// <summary>How many recent messages per conversation are remembered to drop retried sends.</summary>
    public int DedupWindow { get; set; } = 1024;

    /// <summary>Groups up to this size tell every member of every read mark; bigger ones tell only the
    /// reader's other devices (members ask with conv.reads).</summary>
    public int MaxGroupForReadEvents { get; set; } = 50;

    /// <summary>Groups up to this size tell the other members when someone types; in bigger ones typing
    /// reaches nobody (each keystroke would otherwise fan out to every member).</summary>
    public int MaxGroupForTypingEvents { get; set; } = 50;

    /// <summary>Groups up to this size tell every member who joined or left; in bigger ones only the user who joined or
    /// left and the one who made the change hear of it (members ask with conv.get): adding 100 users to a group of
    /// 1 000 would otherwise be 100 000 events at once.</summary>
    public int MaxGroupForMemberEvents { get; set; } = 50;

    /// <summary>Bytes of messages in one <c>sync</c> reply (as JSON on the wire); more follow on the next page.</summary>
    public int MaxSyncBytes { get; set; } = 256 * 1024;

    /// <summary>Attachments one message may carry.</summary>
    public int MaxAttachmentsPerMessage { get; set; } = 10;

    /// <summary>Days messages are kept (bodies and attachments); 0 keeps them forever. A conversation may set its own.</summary>
    public int RetentionDays { get; set; }

    /// <summary>How often each silo deletes expired messages.</summary>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest retention a conversation may set.</summary>
    public const int MaxRetentionDays = 36_500;

    /// <summary>How long after sending its author may edit a message.</summary>
    public TimeSpan EditWindow { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Users one message (or edit) may mention.</summary>
    public int MaxMentions { get; set; } = 50;

    /// <summary>Characters in a group title.</summary>
    public int MaxTitleLength { get; set; } = 200;

    /// <summary>How long a device stays online when its gateway stops renewing the connection (a gateway that died
    /// without a word). Gateways renew every <c>Gateway:TouchInterval</c>, which must be at most half of this.</summary>
    public TimeSpan ConnectionLease { get; set; } = TimeSpan.FromMinutes(3);
}
