namespace ImOrleans.Models;

/// <summary>The kinds of log entries other than messages (whose <see cref="MessageRecord.Kind"/> is null).
/// docs/protocol.md §16 says how clients fold each onto the message it targets.</summary>
public static class EntryKinds
{
    /// <summary>New text (and mentions) for the target message.</summary>
    public const string Edit = "edit";

    /// <summary>The target message is deleted for everyone.</summary>
    public const string Delete = "delete";

    /// <summary>The sender adds the emoji (in the body) to the target message.</summary>
    public const string React = "react";

    /// <summary>The sender takes its emoji (in the body) off the target message.</summary>
    public const string Unreact = "unreact";

    /// <summary>Written by the server: every earlier message of the sender (an erased account) is a tombstone.</summary>
    public const string Erase = "erase";

    /// <summary>The kinds a client may send (a message is sent without a kind).</summary>
    public static bool IsClientKind(string? kind) => kind is null or Edit or Delete or React or Unreact;
}
