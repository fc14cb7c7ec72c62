namespace ImOrleans.Models;

/// <summary>What a message says about one attachment: enough to show it before it is downloaded.</summary>
/// <param name="Id">The attachment id the upload answered (<c>a-</c> and 32 hex digits).</param>
/// <param name="Name">File name the uploader gave.</param>
/// <param name="Type">Media type, as uploaded (one of <c>Attachments:AllowedTypes</c>).</param>
/// <param name="Size">Bytes.</param>
/// <param name="Width">Pixels, for PNG, JPEG, GIF and WebP images whose header says so.</param>
/// <param name="Height">Pixels, likewise.</param>
[GenerateSerializer, Immutable, Alias("im.AttachmentInfo")]
public sealed record AttachmentInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Type,
    [property: Id(3)] long Size,
    [property: Id(4)] int? Width = null,
    [property: Id(5)] int? Height = null);
