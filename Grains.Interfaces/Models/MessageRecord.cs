namespace ImOrleans.Models;

/// <summary>One message as stored in the log and as delivered to devices.</summary>
/// <param name="Conversation">Conversation id.</param>
/// <param name="Seq">Position in the conversation, 1-based, with no gaps.</param>
/// <param name="Id">The client message id the sender chose (idempotency key).</param>
/// <param name="From">Sending user id, or <c>system</c> for service messages.</param>
/// <param name="Device">Sending device id (empty for service messages).</param>
/// <param name="Body">Message text.</param>
/// <param name="Timestamp">Server time the message was ordered.</param>
/// <param name="Attachments">Files the message carries (uploaded first over HTTP), or null.</param>
[GenerateSerializer, Immutable, Alias("im.MessageRecord")]
public sealed record MessageRecord(
    string Conversation, long Seq, string Id, string From, string Device, string Body, DateTimeOffset Timestamp,
    [property: Id(7)] IReadOnlyList<AttachmentInfo>? Attachments = null);
