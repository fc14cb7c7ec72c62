using System.Text.Json;

namespace ImOrleans.Grains.Storage;

/// <summary>How both stores keep a message's mentions and reactions: as JSON text in a column (null when there are none).</summary>
internal static class StoredJson
{
    public static string? Mentions(IReadOnlyList<string>? mentions) =>
        mentions is { Count: > 0 } ? JsonSerializer.Serialize(mentions) : null;

    public static IReadOnlyList<string>? Mentions(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<List<string>>(json);

    public static string? Reactions(IReadOnlyDictionary<string, IReadOnlyList<string>>? reactions) =>
        reactions is { Count: > 0 } ? JsonSerializer.Serialize(reactions) : null;

    public static IReadOnlyDictionary<string, IReadOnlyList<string>>? Reactions(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, List<string>>>(json)!
            .ToDictionary(r => r.Key, r => (IReadOnlyList<string>)r.Value);

    /// <summary>A LIKE pattern for the reaction JSON that names <paramref name="user"/> (ids are plain ASCII, so they
    /// appear in the JSON exactly as written, in quotes).</summary>
    public static string ReactionsNaming(string user) => $"%\"{user}\"%";

    /// <summary>The reactions without <paramref name="user"/>'s (an erased account); null when none remain.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>>? ReactionsWithout(string? json, string user)
    {
        var left = (Reactions(json) ?? new Dictionary<string, IReadOnlyList<string>>())
            .Select(r => (Emoji: r.Key, Users: (IReadOnlyList<string>)r.Value.Where(u => u != user).ToList()))
            .Where(r => r.Users.Count > 0)
            .ToDictionary(r => r.Emoji, r => r.Users);
        return left.Count > 0 ? left : null;
    }

    /// <summary>The words of a search as an FTS5 query: each quoted (so no word is read as an operator), all required.</summary>
    public static string Fts5Query(string text) =>
        string.Join(' ', Words(text).Select(w => "\"" + w.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""));

    /// <summary>The words of a search: what holds a letter or digit (punctuation alone matches nothing).</summary>
    public static string[] Words(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(w => w.Any(char.IsLetterOrDigit)).ToArray();
}
