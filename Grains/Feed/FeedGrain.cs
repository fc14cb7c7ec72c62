using ImOrleans.Grains.Storage;
using ImOrleans.Models;
using Orleans.Concurrency;

namespace ImOrleans.Grains.Feed;

[StatelessWorker]
public sealed class FeedGrain(IMessageStore store) : Grain, IFeedGrain
{
    private const int MaxPage = 500;

    public async Task<IReadOnlyList<FeedItem>> ReadAsync(long afterPosition, int limit, string? conversation)
    {
        var page = await store.ReadFeedAsync(afterPosition, Math.Clamp(limit, 1, MaxPage), conversation);
        return page.Select(e => new FeedItem(e.Position, e.Message)).ToList();
    }

    public Task<long> GetHeadAsync() => store.GetHeadPositionAsync();
}
