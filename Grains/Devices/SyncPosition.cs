namespace ImOrleans.Grains.Devices;

/// <summary>Where a <c>sync</c> page stopped: a conversation and the last seq looked at in it. On the wire it is the
/// opaque string <c>{conversation}@{seq}</c> ('@' occurs in no conversation id).</summary>
internal sealed record SyncPosition(string Conversation, long Seq)
{
    public override string ToString() => $"{Conversation}@{Seq}";

    /// <summary>The position a client passed back, or null to start from the first conversation.</summary>
    public static SyncPosition? Parse(string? next)
    {
        if (string.IsNullOrEmpty(next))
            return null;
        var at = next.LastIndexOf('@');
        if (at > 0 && Ids.IsValidConversation(next[..at]) && long.TryParse(next[(at + 1)..], out var seq) && seq >= 0)
            return new SyncPosition(next[..at], seq);
        throw new ImException(ErrorCodes.BadRequest, "'next' must be the value of 'next' in an earlier sync reply");
    }
}
