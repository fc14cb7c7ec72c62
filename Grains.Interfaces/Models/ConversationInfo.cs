namespace ImOrleans.Models;

/// <summary>A member of a conversation and their role.</summary>
[GenerateSerializer, Immutable, Alias("im.Member")]
public sealed record Member(string User, MemberRole Role);

/// <summary>A conversation as its members see it.</summary>
[GenerateSerializer, Immutable, Alias("im.ConversationInfo")]
public sealed record ConversationInfo(
    string Id, ConversationKind Kind, string? Title, IReadOnlyList<Member> Members, long LastSeq);

/// <summary>One entry of a user's conversation list.</summary>
[GenerateSerializer, Immutable, Alias("im.ConversationSummary")]
public sealed record ConversationSummary(string Id, ConversationKind Kind, string? Title, long LastSeq, long ReadSeq);
