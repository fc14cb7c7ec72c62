namespace ImOrleans.Models;

/// <summary>A page of history: messages strictly before <paramref name="Before"/> (newest page first)
/// or strictly after <paramref name="After"/>; always returned oldest first.</summary>
[GenerateSerializer, Immutable, Alias("im.HistoryQuery")]
public sealed record HistoryQuery(long? Before = null, long? After = null, int Limit = 50);
