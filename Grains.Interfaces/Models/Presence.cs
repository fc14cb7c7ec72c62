namespace ImOrleans.Models;

/// <summary>The presence statuses a user can show or set.</summary>
public static class PresenceStatus
{
    public const string Online = "online";
    public const string Away = "away";
    public const string Busy = "busy";
    public const string Invisible = "invisible";
    public const string Offline = "offline";

    /// <summary>Statuses a user may choose for themselves.</summary>
    public static readonly IReadOnlySet<string> Settable = new HashSet<string> { Online, Away, Busy, Invisible };
}

/// <summary>A user's presence as others see it.</summary>
[GenerateSerializer, Immutable, Alias("im.PresenceInfo")]
public sealed record PresenceInfo(string User, string Status, string? Text, DateTimeOffset? LastSeen);
