using ImOrleans.Models;

namespace ImOrleans.Grains.Devices;

/// <summary>An upper bound of the bytes a message takes in the JSON the gateway sends (docs/protocol.md §5). The
/// gateway escapes non-ASCII and HTML-sensitive characters as <c>\uXXXX</c>, so each of those counts six bytes.</summary>
internal static class WireSize
{
    // Field names, quotes, separators, seq and ts: {"conv":"","seq":…,"id":"","from":"","dev":"","body":"","ts":…},
    private const int Overhead = 100;

    /// <summary>No message takes fewer bytes than this.</summary>
    public const int Minimum = Overhead;

    // The optional fields of an entry (docs/protocol.md §16): names, numbers, separators.
    private const int EntryOverhead = 120;

    public static int Of(MessageRecord m) =>
        Overhead + Of(m.Conversation) + Of(m.Id) + Of(m.From) + Of(m.Device) + Of(m.Body)
        + (m.Kind is null && m.ReplyTo is null && m.Mentions is null && m.EditedAt is null && !m.Deleted && m.Reactions is null
            ? 0
            : EntryOverhead + Of(m.Kind ?? "")
              + (m.Mentions?.Sum(u => Of(u) + 3) ?? 0)
              + (m.Reactions?.Sum(r => Of(r.Key) + 5 + r.Value.Sum(u => Of(u) + 3)) ?? 0));

    private static int Of(string s)
    {
        var n = 0;
        foreach (var c in s)
            n += c is >= ' ' and <= '~' and not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`') ? 1 : 6;
        return n;
    }
}
