using System.Buffers;
using System.Text.Json;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Reads the payload of a plain message (<c>{"id", "body"}</c>, optionally <c>"replyTo"</c> and
/// <c>"mentions"</c>: docs/protocol.md §5) straight off the wire, without building a JSON tree: the tree, its copy of
/// the bytes and its values were the largest share of what receiving a message allocated. Only that shape is read here,
/// plus other fields with plain values, which are ignored as the tree path ignores them. Anything else (a kind or
/// attachments, a value of another type, a field twice, more after the object) is declined, and the caller parses the
/// payload as a tree as before, which also words the error.</summary>
internal static class PlainMessageReader
{
    // Other fields are compared with each other by a scan, so only a few are read here: thousands in one payload would
    // cost a scan each, before the rate limit.
    private const int MaxOtherFields = 8;

    public static bool TryRead(ReadOnlySequence<byte> payload, out string id, out EntryRequest entry)
    {
        (id, entry) = (null!, null!);
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            string? readId = null, body = null;
            long? replyTo = null;
            List<string>? mentions = null;
            var seen = Field.None;
            List<string>? others = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = FieldOf(ref reader);
                if (field == Field.None)
                {
                    // Another field is ignored, as the tree ignores it, if it is named once and holds no object or array
                    // (which could hide a field named twice), nor an escaped string (which could be half a character).
                    var name = reader.GetString()!;
                    if ((others ??= []).Count == MaxOtherFields || others.Contains(name)
                        || !reader.Read() || reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray
                        || reader.TokenType == JsonTokenType.String && reader.ValueIsEscaped)
                        return false;
                    others.Add(name);
                    continue;
                }
                if (seen.HasFlag(field) || !reader.Read())
                    return false;
                seen |= field;
                var isNull = reader.TokenType == JsonTokenType.Null;
                switch (field)
                {
                    case Field.Id when reader.TokenType == JsonTokenType.String:
                        readId = reader.GetString();
                        break;
                    case Field.Body when reader.TokenType == JsonTokenType.String:
                        body = reader.GetString();
                        break;
                    case Field.ReplyTo or Field.Mentions or Field.Kind or Field.Attachments when isNull:
                        break; // null is as good as absent, as in the tree
                    case Field.ReplyTo when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var target):
                        replyTo = target;
                        break;
                    case Field.Mentions when reader.TokenType == JsonTokenType.StartArray:
                        mentions = [];
                        while (reader.Read() && reader.TokenType == JsonTokenType.String && mentions.Count < PublishRouter.MaxListItems)
                            mentions.Add(reader.GetString()!);
                        if (reader.TokenType != JsonTokenType.EndArray)
                            return false;
                        break;
                    default:
                        return false;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || readId is null || body is null)
                return false;
            (id, entry) = (readId, EntryRequest.Message(body, replyTo, mentions));
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // the latter: an escape that is no character
        {
            return false;
        }
    }

    // Kind and Attachments are named only so that a null one is read as absent; any other value of theirs is declined.
    [Flags]
    private enum Field { None = 0, Id = 1, Body = 2, ReplyTo = 4, Mentions = 8, Kind = 16, Attachments = 32 }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8) ? Field.Id
        : reader.ValueTextEquals("body"u8) ? Field.Body
        : reader.ValueTextEquals("replyTo"u8) ? Field.ReplyTo
        : reader.ValueTextEquals("mentions"u8) ? Field.Mentions
        : reader.ValueTextEquals("kind"u8) ? Field.Kind
        : reader.ValueTextEquals("attachments"u8) ? Field.Attachments
        : Field.None;
}
