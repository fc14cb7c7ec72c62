using ImOrleans.Models;

namespace ImOrleans.Gateway.Attachments;

/// <summary>An upload as the store keeps it: its descriptor, who uploaded it, and the conversations whose messages
/// name it (a member of any of them may download it).</summary>
public sealed record StoredAttachment(AttachmentInfo Info, string Uploader, DateTimeOffset CreatedAt, IReadOnlyList<string> Conversations);
