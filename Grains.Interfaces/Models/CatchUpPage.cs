namespace ImOrleans.Models;

/// <summary>What a device grain read from the store for one connection that fell behind (or just connected).</summary>
/// <param name="Messages">In seq order per conversation; the device's own messages left out.</param>
/// <param name="Ranges">Per conversation looked at: where the read started and how far it got.</param>
/// <param name="Unvisited">Conversations the read had no room left for; the gateway asks again for them.</param>
[GenerateSerializer, Immutable, Alias("im.CatchUpPage")]
public sealed record CatchUpPage(
    [property: Id(0)] IReadOnlyList<MessageRecord> Messages,
    [property: Id(1)] IReadOnlyList<CatchUpRange> Ranges,
    [property: Id(2)] IReadOnlyList<string> Unvisited);

/// <param name="After">The seq the read started after: the connection's position, or the device's cursor or join
/// point when further on (a gateway moves its position there: nothing before it is for this device).</param>
/// <param name="UpTo">The last seq the read covered; everything up to it is either in the page or not for this
/// device (its own messages).</param>
/// <param name="Finished">Nothing more was stored at the time of the read.</param>
[GenerateSerializer, Immutable, Alias("im.CatchUpRange")]
public sealed record CatchUpRange(
    [property: Id(0)] string Conversation,
    [property: Id(1)] long After,
    [property: Id(2)] long UpTo,
    [property: Id(3)] bool Finished);
