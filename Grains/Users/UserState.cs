namespace ImOrleans.Grains.Users;

/// <summary>Persisted account state. Presence of connected devices lives in the grain's fields, not here.</summary>
[GenerateSerializer, Alias("im.UserState")]
public sealed class UserState
{
    [Id(0)] public bool Created { get; set; }
    [Id(1)] public DateTimeOffset CreatedAt { get; set; }
    [Id(2)] public string PasswordHash { get; set; } = "";
    [Id(3)] public bool Disabled { get; set; }

    /// <summary>Registered devices, capped by <see cref="ChatLimits.MaxDevicesPerUser"/>.</summary>
    [Id(4)] public List<string> Devices { get; set; } = [];

    /// <summary>Conversation id → the conversation's seq when this user joined (new members' devices start there);
    /// capped by <see cref="ChatLimits.MaxConversationsPerUser"/>.</summary>
    [Id(5)] public Dictionary<string, long> Conversations { get; set; } = [];

    /// <summary>Users this user added as contacts; this set, ContactOf and Blocked are capped by
    /// <see cref="ChatLimits.MaxContactsPerUser"/>.</summary>
    [Id(6)] public HashSet<string> Contacts { get; set; } = [];

    /// <summary>Users who added this user as a contact; presence is shared with those in both sets.</summary>
    [Id(7)] public HashSet<string> ContactOf { get; set; } = [];

    [Id(8)] public HashSet<string> Blocked { get; set; } = [];

    /// <summary>The status the user chose (online, away, busy, invisible); shown only while a device is connected.</summary>
    [Id(9)] public string Status { get; set; } = "online";
    [Id(10)] public string? StatusText { get; set; }
    [Id(11)] public DateTimeOffset? LastSeen { get; set; }

    /// <summary>Conversation id → the other user who put this user in it (a group's creator, an adder, the opener of a
    /// direct conversation); absent when it was this user's own doing or the system's. Both shares of
    /// <see cref="Conversations"/> are capped by <see cref="ChatLimits.MaxConversationsPerUser"/>, and each other user's
    /// by <see cref="ChatLimits.MaxConversationsFromOneUser"/>.</summary>
    [Id(12)] public Dictionary<string, string> AddedBy { get; set; } = [];

    /// <summary>The account was erased: nothing else of it is kept, and its id cannot be registered again (so that nobody
    /// inherits its conversations or its unexpired tokens).</summary>
    [Id(13)] public bool Erased { get; set; }

    /// <summary>Conversations this user left (or was removed from) → when, so that erasing the account reaches its
    /// messages there too and <c>sync.delta</c> can say it is gone; capped by
    /// <see cref="ChatLimits.MaxConversationsPerUser"/> (the oldest drop out).</summary>
    [Id(14)] public Dictionary<string, DateTimeOffset> FormerConversations { get; set; } = [];
}
