namespace ImOrleans.Models;

/// <summary>Event type names as they appear on the wire.</summary>
public static class EventTypes
{
    public const string Read = "read";
    public const string Delivered = "delivered";
    public const string Typing = "typing";
    public const string MemberAdded = "member_added";
    public const string MemberRemoved = "member_removed";

    /// <summary>To the devices of users who are now members of a conversation (created with it, or added to it). Sent
    /// once to all of them, so it names no user: <see cref="ConversationEvent.User"/> and <c>By</c> are who did it.</summary>
    public const string ConversationAdded = "conv_added";
}

/// <summary>A non-message event in a conversation (read mark, delivery mark, typing, membership).</summary>
/// <param name="Type">One of <see cref="EventTypes"/>.</param>
/// <param name="Conversation">Conversation id.</param>
/// <param name="User">The user the event is about.</param>
/// <param name="Seq">The seq for read/delivered marks, else 0.</param>
/// <param name="By">Who caused a membership change, else null.</param>
[GenerateSerializer, Immutable, Alias("im.ConversationEvent")]
public sealed record ConversationEvent(string Type, string Conversation, string User, long Seq = 0, string? By = null);
