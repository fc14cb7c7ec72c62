namespace ImOrleans.Models;

/// <summary>One message of a <see cref="IConversationGrain.PostManyAsync"/>: its client id and what it says.</summary>
[GenerateSerializer, Immutable, Alias("im.NewMessage")]
public sealed record NewMessage([property: Id(0)] string ClientMessageId, [property: Id(1)] EntryRequest Entry)
{
    /// <summary>Most messages one <see cref="IConversationGrain.PostManyAsync"/> takes.</summary>
    public const int MaxPerCall = 100;
}
