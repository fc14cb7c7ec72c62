namespace ImOrleans.Models;

/// <summary>One entry of a conversation's log (a message, or an entry that changes one: see <see cref="EntryKinds"/>),
/// as stored and as delivered to devices. Messages are stored folded: the latest text, reactions, the tombstone.</summary>
/// <param name="Conversation">Conversation id.</param>
/// <param name="Seq">Position in the conversation, 1-based, with no gaps.</param>
/// <param name="Id">The client message id the sender chose (idempotency key).</param>
/// <param name="From">Sending user id, or <c>system</c> for service messages.</param>
/// <param name="Device">Sending device id (empty for service messages).</param>
/// <param name="Body">Message text (the emoji of a reaction entry; empty once deleted).</param>
/// <param name="Timestamp">Server time the message was ordered.</param>
/// <param name="Kind">Null for a message, else one of <see cref="EntryKinds"/>.</param>
/// <param name="Target">The seq of the message an edit, delete or reaction changes.</param>
/// <param name="ReplyTo">The seq of the message this message replies to.</param>
/// <param name="Mentions">Members mentioned (a message or an edit).</param>
/// <param name="EditedAt">When the message was last edited (its <see cref="Body"/> is the latest text).</param>
/// <param name="Deleted">A tombstone: the text is gone from storage; the seq stays.</param>
/// <param name="Reactions">Emoji → the users who reacted with it (a message).</param>
/// <param name="Attachments">Files the message carries (uploaded first over HTTP), or null.</param>
[GenerateSerializer, Immutable, Alias("im.MessageRecord")]
public sealed record MessageRecord(
    string Conversation, long Seq, string Id, string From, string Device, string Body, DateTimeOffset Timestamp,
    string? Kind = null, long? Target = null, long? ReplyTo = null, IReadOnlyList<string>? Mentions = null,
    DateTimeOffset? EditedAt = null, bool Deleted = false, IReadOnlyDictionary<string, IReadOnlyList<string>>? Reactions = null,
    [property: Id(14)] IReadOnlyList<AttachmentInfo>? Attachments = null);
