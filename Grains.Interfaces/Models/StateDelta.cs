namespace ImOrleans.Models;

/// <summary>One conversation in a <c>sync.delta</c>: its current state as the member sees it.</summary>
/// <param name="ReadMarks">Members' read marks (the member's own, and in groups up to
/// <c>Limits:MaxGroupForReadEvents</c> everyone's): ticks, and the unread count that every device of the user shares.</param>
[GenerateSerializer, Immutable, Alias("im.ConversationDelta")]
public sealed record ConversationDelta(
    [property: Id(0)] ConversationInfo Info, [property: Id(1)] IReadOnlyDictionary<string, long> ReadMarks);

/// <summary>What changed for a user since a sync token: conversations whose members, roles or read marks changed (new
/// ones included), and the ones it no longer belongs to. Messages are not here: they come by replay and <c>sync</c>.</summary>
/// <param name="At">Server time of this delta: the next token.</param>
[GenerateSerializer, Immutable, Alias("im.StateDelta")]
public sealed record StateDelta(
    [property: Id(0)] IReadOnlyList<ConversationDelta> Changed, [property: Id(1)] IReadOnlyList<string> Removed,
    [property: Id(2)] DateTimeOffset At);
