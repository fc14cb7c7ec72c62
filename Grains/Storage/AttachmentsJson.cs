using System.Text.Json;
using ImOrleans.Models;

namespace ImOrleans.Grains.Storage;

/// <summary>The <c>attachments</c> column of both message stores: the descriptors as a JSON array, null for none.</summary>
public static class AttachmentsJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static string? Write(IReadOnlyList<AttachmentInfo>? attachments) =>
        attachments is { Count: > 0 } ? JsonSerializer.Serialize(attachments, Options) : null;

    public static IReadOnlyList<AttachmentInfo>? Read(string json) =>
        JsonSerializer.Deserialize<List<AttachmentInfo>>(json, Options) is { Count: > 0 } list ? list : null;
}
