using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.Gateway.Grpc;

/// <summary><c>im.v1.Events</c>: follows the store-wide message feed (<see cref="IFeedGrain"/>) from a position.
/// The feed is the store itself, so a consumer that resumes from its last position misses nothing, whatever
/// happened to this gateway meanwhile.</summary>
public sealed class EventsService(IGrainFactory grains, IHostApplicationLifetime lifetime) : Events.EventsBase
{
    private const int PageSize = 200;

    /// <summary>How long to wait once caught up before asking the store again: the latency of a new event.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<MessageEvent> responseStream, ServerCallContext context)
    {
        if (request.AfterPosition < 0)
            throw Require.Invalid("after_position", "must be 0 (from the beginning) or a position from an earlier event");
        var conversation = request.Conversation.Length > 0 ? Require.Conversation(request.Conversation) : null;
        var feed = grains.GetGrain<IFeedGrain>(0);
        var after = request.FromNow ? await feed.GetHeadAsync() : request.AfterPosition;
        // Headers now, before any event: a caller awaiting them knows its starting point is fixed.
        await context.WriteResponseHeadersAsync([]);

        await StreamLoop.RunAsync(context, lifetime, async ct =>
        {
            while (true)
            {
                var page = await feed.ReadAsync(after, PageSize, conversation);
                foreach (var item in page)
                {
                    await responseStream.WriteAsync(new MessageEvent { Position = item.Position, Message = item.Message.ToProto() }, ct);
                    after = item.Position;
                }
                // A full page means more is waiting: read on at once.
                if (page.Count < PageSize)
                    await Task.Delay(PollInterval, ct);
            }
        }, () => $"the server is shutting down; subscribe again with after_position {after}");
    }
}
