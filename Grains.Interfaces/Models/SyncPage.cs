namespace ImOrleans.Models;

/// <summary>One page of <c>sync</c>: messages after the device's cursors, and where the next page starts.</summary>
/// <param name="Messages">In seq order per conversation, one conversation after another.</param>
/// <param name="Next">Pass it back to get the next page; null when this page is the last.</param>
[GenerateSerializer, Immutable, Alias("im.SyncPage")]
public sealed record SyncPage([property: Id(0)] IReadOnlyList<MessageRecord> Messages, [property: Id(1)] string? Next);
