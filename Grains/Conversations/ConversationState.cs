using ImOrleans.Models;

namespace ImOrleans.Grains.Conversations;

/// <summary>Persisted conversation state. Messages and the next seq live in the message store, not here.</summary>
[GenerateSerializer, Alias("im.ConversationState")]
public sealed class ConversationState
{
    [Id(0)] public bool Created { get; set; }
    [Id(1)] public ConversationKind Kind { get; set; }
    [Id(2)] public string? Title { get; set; }

    /// <summary>Members and roles, capped by <see cref="ChatLimits.MaxGroupMembers"/>.</summary>
    [Id(3)] public Dictionary<string, MemberRole> Members { get; set; } = [];

    /// <summary>Read marks per member.</summary>
    [Id(4)] public Dictionary<string, long> ReadMarks { get; set; } = [];

    /// <summary>Direct conversations: which of the two users blocks the other (may be set before creation).</summary>
    [Id(5)] public HashSet<string> BlockedBy { get; set; } = [];

    [Id(6)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Members who joined after the creation → the seq when they (last) joined; delivery starts after it.</summary>
    [Id(7)] public Dictionary<string, long> JoinedAt { get; set; } = [];

    /// <summary>Days messages are kept here, or null for the server-wide <c>Limits:RetentionDays</c>. The message store
    /// keeps a copy, which its retention sweep reads.</summary>
    [Id(8)] public int? RetentionDays { get; set; }

    /// <summary>When members, roles or read marks last changed: what <c>sync.delta</c> compares a device's token with.</summary>
    [Id(9)] public DateTimeOffset ChangedAt { get; set; }
}
