using System.Text.RegularExpressions;

namespace ImOrleans;

/// <summary>The id rules of DESIGN: users, devices and conversations.</summary>
public static partial class Ids
{
    public const string SystemUser = "system";

    // Anchored with \z, not $: $ also matches before a final newline, and "system\n" would pass for a user id.
    [GeneratedRegex("^[a-z0-9_.-]{1,64}\\z")]
    private static partial Regex UserPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}\\z")]
    private static partial Regex DevicePattern();

    // Group ids are "g-" + 32 hex; direct ids are "d:" + two user ids; ':' cannot occur in a user id.
    [GeneratedRegex("^(g-[a-f0-9]{32}|d:[a-z0-9_.-]{1,64}:[a-z0-9_.-]{1,64})\\z")]
    private static partial Regex ConversationPattern();

    public static bool IsValidUser(string? id) => id is not null && UserPattern().IsMatch(id);

    public static bool IsValidDevice(string? id) => id is not null && DevicePattern().IsMatch(id);

    public static bool IsValidConversation(string? id) => id is not null && ConversationPattern().IsMatch(id);

    /// <summary>The one direct conversation id of a pair of users, the same whichever side asks.</summary>
    public static string Direct(string a, string b) =>
        string.CompareOrdinal(a, b) <= 0 ? $"d:{a}:{b}" : $"d:{b}:{a}";

    public static string NewGroup() => "g-" + Guid.NewGuid().ToString("N");

    /// <summary>The grain key of a device: user and device joined by '/', as in the MQTT ClientId.</summary>
    public static string DeviceKey(string user, string device) => $"{user}/{device}";

    public static void RequireUser(string? id, string what = "user")
    {
        if (!IsValidUser(id))
            throw new ImException(ErrorCodes.InvalidId, $"{what} id must be 1-64 characters of a-z 0-9 _ . - (got '{id}')");
    }

    public static void RequireDevice(string? id)
    {
        if (!IsValidDevice(id))
            throw new ImException(ErrorCodes.InvalidId, $"device id must be 1-64 characters of A-Z a-z 0-9 _ . - (got '{id}')");
    }
}
