using System.Security.Cryptography;

namespace ImOrleans.Gateway.Attachments;

/// <summary>Attachment ids: <c>a-</c> and 32 random hex digits, so they cannot be guessed (access is still checked).</summary>
public static class AttachmentIds
{
    public static string New() => "a-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static bool IsValid(string? id) =>
        id is { Length: 34 } && id.StartsWith("a-", StringComparison.Ordinal) && id.AsSpan(2).ContainsAnyExcept("0123456789abcdef") == false;
}
