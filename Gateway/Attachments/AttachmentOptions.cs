namespace ImOrleans.Gateway.Attachments;

/// <summary>Uploads over HTTP, bound from the <c>Attachments</c> configuration section.</summary>
public sealed class AttachmentOptions
{
    public const string Section = "Attachments";

    /// <summary>Largest upload in bytes; a bigger one is refused with 413.</summary>
    public long MaxBytes { get; set; } = 25 * 1024 * 1024;

    /// <summary>Media types an upload may have (<c>type/*</c> allows a whole family); others are refused with 415.</summary>
    public string[] AllowedTypes { get; set; } =
    [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
        "audio/mpeg", "audio/ogg", "audio/mp4", "video/mp4", "video/webm", "application/zip", "application/octet-stream",
    ];

    /// <summary>An upload that no message has named this long after it was made is deleted.</summary>
    public TimeSpan UnreferencedLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the gateway looks for such uploads.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Characters of a file name; longer names are cut.</summary>
    public const int MaxNameLength = 255;

    public bool Allows(string type) => AllowedTypes.Any(t =>
        t.Equals(type, StringComparison.OrdinalIgnoreCase)
        || (t.EndsWith("/*", StringComparison.Ordinal) && type.StartsWith(t[..^1], StringComparison.OrdinalIgnoreCase)));
}
