namespace ImOrleans.Models;

/// <summary>What became of one message of a <see cref="IConversationGrain.PostManyAsync"/>: stored (or found stored, a
/// retry), or refused with an <see cref="ErrorCodes"/> code and why.</summary>
[GenerateSerializer, Immutable, Alias("im.PostOutcome")]
public sealed record PostOutcome([property: Id(0)] SendResult? Result, [property: Id(1)] string? ErrorCode = null,
    [property: Id(2)] string? Error = null);
