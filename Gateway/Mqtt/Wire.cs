using System.Text.Json;
using System.Text.Json.Nodes;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>The JSON shapes of the client protocol (docs/protocol.md). Times are Unix milliseconds.</summary>
public static class Wire
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A message or other log entry as history and sync return it (the payload of <see cref="MessageBytes"/>).</summary>
    public static JsonObject Message(MessageRecord m) => JsonNode.Parse(MessageBytes(m))!.AsObject();

    /// <summary>An attachment as the upload answers it and as messages carry it; no width/height when unknown.</summary>
    public static JsonObject Attachment(AttachmentInfo a) => new()
    {
        ["id"] = a.Id, ["name"] = a.Name, ["type"] = a.Type, ["size"] = a.Size, ["width"] = a.Width, ["height"] = a.Height,
    };

    // A message fanned out to many devices on this gateway is one MessageRecord instance (it is [Immutable], so
    // Orleans passes it on uncopied within a process): its payload is written once, however many get it.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<MessageRecord, byte[]> MessagePayloads = new();

    /// <summary>The payload of a message or entry on <c>u/{me}/m</c> (docs/protocol.md §5, §16), written directly and
    /// once per message. Fields without a value are left out.</summary>
    public static byte[] MessageBytes(MessageRecord m) => MessagePayloads.GetValue(m, static m =>
    {
        var (buffer, w) = MessageScratch.Take();
        w.WriteStartObject();
        w.WriteString("conv", m.Conversation);
        w.WriteNumber("seq", m.Seq);
        w.WriteString("id", m.Id);
        w.WriteString("from", m.From);
        w.WriteString("dev", m.Device);
        if (m.Kind is EntryKinds.React or EntryKinds.Unreact)
            w.WriteString("emoji", m.Body);
        else
            w.WriteString("body", m.Body);
        w.WriteNumber("ts", m.Timestamp.ToUnixTimeMilliseconds());
        if (m.Kind is not null)
            w.WriteString("kind", m.Kind);
        if (m.Target is { } target)
            w.WriteNumber("target", target);
        if (m.ReplyTo is { } replyTo)
            w.WriteNumber("replyTo", replyTo);
        if (m.Mentions is { Count: > 0 } mentions)
        {
            w.WriteStartArray("mentions");
            foreach (var user in mentions)
                w.WriteStringValue(user);
            w.WriteEndArray();
        }
        if (m.EditedAt is { } edited)
            w.WriteNumber("edited", edited.ToUnixTimeMilliseconds());
        if (m.Deleted)
            w.WriteBoolean("deleted", true);
        if (m.Reactions is { Count: > 0 } reactions)
        {
            w.WriteStartObject("reactions");
            foreach (var (emoji, users) in reactions)
            {
                w.WriteStartArray(emoji);
                foreach (var user in users)
                    w.WriteStringValue(user);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        if (m.Attachments is { Count: > 0 } attachments)
        {
            w.WritePropertyName("attachments");
            w.WriteStartArray();
            foreach (var a in attachments)
            {
                w.WriteStartObject();
                w.WriteString("id", a.Id);
                w.WriteString("name", a.Name);
                w.WriteString("type", a.Type);
                w.WriteNumber("size", a.Size);
                if (a.Width is { } width)
                    w.WriteNumber("width", width);
                if (a.Height is { } height)
                    w.WriteNumber("height", height);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    });

    /// <summary>A buffer and writer per thread for <see cref="MessageBytes"/>, so that writing a payload allocates only
    /// the payload: a fresh buffer (grown once or twice on the way) and writer for each message were a tenth of all
    /// the bytes the server allocated per message.</summary>
    private static class MessageScratch
    {
        private const int KeepUpTo = 64 * 1024; // a buffer grown past this by a huge message is not kept

        [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? _buffer;
        [ThreadStatic] private static Utf8JsonWriter? _writer;

        public static (System.Buffers.ArrayBufferWriter<byte>, Utf8JsonWriter) Take()
        {
            if (_buffer is null || _buffer.Capacity > KeepUpTo)
            {
                _buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
                _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = Json.Encoder });
            }
            _buffer.ResetWrittenCount();
            _writer!.Reset(_buffer);
            return (_buffer, _writer);
        }
    }

    public static JsonObject Event(ConversationEvent e)
    {
        var o = new JsonObject { ["type"] = e.Type, ["conv"] = e.Conversation };
        // conv_added goes to all new members at once: each knows it is about itself.
        if (e.Type != EventTypes.ConversationAdded)
            o["user"] = e.User;
        if (e.Type is EventTypes.Read or EventTypes.Delivered)
            o["seq"] = e.Seq;
        if (e.By is not null)
            o["by"] = e.By;
        return o;
    }

    /// <summary>Tells the sending device the seq its message got (MQTT 3.1.1 PUBACKs carry nothing).</summary>
    public static JsonObject Sent(MessageRecord m) => new()
    {
        ["type"] = "sent", ["conv"] = m.Conversation, ["seq"] = m.Seq, ["id"] = m.Id, ["ts"] = m.Timestamp.ToUnixTimeMilliseconds(),
    };

    public static JsonObject Error(string? reference, string code, string message) => new()
    {
        ["type"] = "error", ["ref"] = reference, ["code"] = code, ["message"] = message,
    };

    public static JsonObject Presence(PresenceInfo p) => new()
    {
        ["user"] = p.User,
        ["status"] = p.Status,
        ["text"] = p.Text,
        ["lastSeen"] = p.LastSeen?.ToUnixTimeMilliseconds(),
    };

    public static JsonObject Conversation(ConversationInfo c) => new()
    {
        ["conv"] = c.Id,
        ["kind"] = c.Kind.ToString().ToLowerInvariant(),
        ["title"] = c.Title,
        ["members"] = new JsonArray(c.Members.Select(m => (JsonNode)new JsonObject
        {
            ["user"] = m.User, ["role"] = m.Role.ToString().ToLowerInvariant(),
        }).ToArray()),
        ["lastSeq"] = c.LastSeq,
    };

    public static JsonObject Summary(ConversationSummary c) => new()
    {
        ["conv"] = c.Id,
        ["kind"] = c.Kind.ToString().ToLowerInvariant(),
        ["title"] = c.Title,
        ["lastSeq"] = c.LastSeq,
        ["readSeq"] = c.ReadSeq,
    };

    public static JsonObject ReplyOk(string? rid, JsonNode? result) => new() { ["rid"] = rid, ["ok"] = true, ["result"] = result };

    public static JsonObject ReplyError(string? rid, string code, string message) => new()
    {
        ["rid"] = rid, ["ok"] = false, ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
    };

    /// <summary>The payload bytes; fields without a value are left out rather than sent as null.</summary>
    public static byte[] Bytes(JsonNode node)
    {
        DropNulls(node);
        return JsonSerializer.SerializeToUtf8Bytes(node, Json);
    }

    private static void DropNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Where(p => p.Value is null).Select(p => p.Key).ToList())
                    o.Remove(key);
                foreach (var (_, child) in o)
                    DropNulls(child);
                break;
            case JsonArray a:
                foreach (var child in a)
                    DropNulls(child);
                break;
        }
    }
}
