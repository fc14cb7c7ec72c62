namespace ImOrleans.Models;

/// <summary>The outcome of a send: the stored message, and whether it was a retry of one already stored.</summary>
[GenerateSerializer, Immutable, Alias("im.SendResult")]
public sealed record SendResult(MessageRecord Message, bool Duplicate);
