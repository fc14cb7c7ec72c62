namespace ImOrleans.Models;

/// <summary>A message and its position in the feed; a consumer resumes after the last position it handled.</summary>
[GenerateSerializer, Immutable, Alias("im.FeedItem")]
public sealed record FeedItem(long Position, MessageRecord Message);
