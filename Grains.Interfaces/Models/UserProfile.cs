namespace ImOrleans.Models;

/// <summary>What others may know about an account.</summary>
[GenerateSerializer, Immutable, Alias("im.UserProfile")]
public sealed record UserProfile(string User, bool Exists, bool Disabled, DateTimeOffset CreatedAt, IReadOnlyList<string> Devices);
