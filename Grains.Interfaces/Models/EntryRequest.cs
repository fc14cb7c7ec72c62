namespace ImOrleans.Models;

/// <summary>What a member asks to add to a conversation's log: a message (<paramref name="Kind"/> null), an edit, a
/// delete or a reaction (<see cref="EntryKinds"/>). The grain checks and orders it.</summary>
/// <param name="Body">The text (message, edit) or the emoji (react, unreact); empty for a delete.</param>
/// <param name="Target">The message seq an edit, delete or reaction names.</param>
/// <param name="ReplyTo">The message seq a message replies to.</param>
/// <param name="Mentions">Members a message or edit mentions.</param>
/// <param name="Attachments">Files a message carries (checked by the gateway: uploaded by the sender).</param>
[GenerateSerializer, Immutable, Alias("im.EntryRequest")]
public sealed record EntryRequest(
    [property: Id(0)] string? Kind, [property: Id(1)] string Body, [property: Id(2)] long? Target = null,
    [property: Id(3)] long? ReplyTo = null, [property: Id(4)] IReadOnlyList<string>? Mentions = null,
    [property: Id(5)] IReadOnlyList<AttachmentInfo>? Attachments = null)
{
    public static EntryRequest Message(string body, long? replyTo = null, IReadOnlyList<string>? mentions = null,
        IReadOnlyList<AttachmentInfo>? attachments = null) =>
        new(null, body, null, replyTo, mentions, attachments);

    public static EntryRequest Delete(long target) => new(EntryKinds.Delete, "", target);
}
