using ImOrleans.Models;

namespace ImOrleans;

/// <summary>Reads the store-wide message feed in commit-position order, for event streams that bots and
/// integrations resume from a position. Stateless: any silo serves it (use key 0).</summary>
[Alias("im.IFeedGrain")]
public interface IFeedGrain : IGrainWithIntegerKey
{
    /// <summary>Up to <paramref name="limit"/> messages after <paramref name="afterPosition"/>, optionally of one conversation.</summary>
    [Alias("Read")] Task<IReadOnlyList<FeedItem>> ReadAsync(long afterPosition, int limit, string? conversation);

    /// <summary>The current end of the feed: a consumer that starts after it gets only new messages.</summary>
    [Alias("GetHead")] Task<long> GetHeadAsync();
}
