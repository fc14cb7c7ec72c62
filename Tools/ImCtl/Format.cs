using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using ImOrleans.Gateway.Grpc.V1;
using V1Role = ImOrleans.Gateway.Grpc.V1.Role;

namespace ImOrleans.ImCtl;

/// <summary>How each API message looks in text and in JSON. JSON keeps numbers as numbers (unlike the protobuf
/// JSON mapping, which quotes 64-bit integers) and times as ISO 8601 UTC.</summary>
public static class Format
{
    public static JsonObject Json(User u) => new()
    {
        ["id"] = u.Id,
        ["disabled"] = u.Disabled,
        ["createdAt"] = Time(u.CreatedAt),
        ["devices"] = new JsonArray(u.Devices.Select(d => (JsonNode)d).ToArray()),
    };

    public static string Text(User u) =>
        $"{u.Id}  {(u.Disabled ? "disabled" : "enabled")}  created {TimeText(u.CreatedAt)}  devices: {(u.Devices.Count == 0 ? "none" : string.Join(", ", u.Devices))}";

    public static JsonObject Json(Conversation c) => new()
    {
        ["id"] = c.Id,
        ["kind"] = Kind(c.Kind),
        ["title"] = c.Title,
        ["members"] = new JsonArray(c.Members.Select(m => (JsonNode)new JsonObject { ["user"] = m.User, ["role"] = Role(m.Role) }).ToArray()),
        ["lastSeq"] = c.LastSeq,
    };

    public static string Text(Conversation c) =>
        $"{c.Id}  {Kind(c.Kind)}{Title(c.Title)}  last seq {c.LastSeq}  members: " +
        string.Join(", ", c.Members.Select(m => m.Role == V1Role.Member ? m.User : $"{m.User} ({Role(m.Role)})"));

    public static JsonObject Json(ConversationSummary s) => new()
    {
        ["id"] = s.Id, ["kind"] = Kind(s.Kind), ["title"] = s.Title, ["lastSeq"] = s.LastSeq, ["readSeq"] = s.ReadSeq,
    };

    public static string Text(ConversationSummary s) => $"{s.Id}  {Kind(s.Kind)}{Title(s.Title)}  last seq {s.LastSeq}  read {s.ReadSeq}";

    public static JsonObject Json(Message m)
    {
        var json = new JsonObject
        {
            ["conversation"] = m.Conversation,
            ["seq"] = m.Seq,
            ["clientMessageId"] = m.ClientMessageId,
            ["from"] = m.FromUser,
            ["device"] = m.Device,
            ["body"] = m.Body,
            ["timestamp"] = Time(m.Timestamp),
        };
        // The log entry fields (protocol.md §16), only where they say something.
        if (m.Kind.Length > 0)
            json["kind"] = m.Kind;
        if (m.Target > 0)
            json["target"] = m.Target;
        if (m.ReplyTo > 0)
            json["replyTo"] = m.ReplyTo;
        if (m.Mentions.Count > 0)
            json["mentions"] = new JsonArray(m.Mentions.Select(u => (JsonNode)u).ToArray());
        if (m.Edited is not null)
            json["edited"] = Time(m.Edited);
        if (m.Deleted)
            json["deleted"] = true;
        if (m.Reactions.Count > 0)
            json["reactions"] = new JsonObject(m.Reactions.Select(r =>
                KeyValuePair.Create(r.Emoji, (JsonNode?)new JsonArray(r.Users.Select(u => (JsonNode)u).ToArray()))));
        return json;
    }

    public static string Text(Message m)
    {
        var what = m switch
        {
            { Deleted: true } => "(deleted)",
            { Kind.Length: > 0 } => $"({m.Kind}{(m.Target > 0 ? $" #{m.Target}" : "")}) {m.Body}",
            { Edited: not null } => $"{m.Body} (edited)",
            _ => m.Body,
        };
        return $"#{m.Seq}  {TimeText(m.Timestamp)}  {(m.Device.Length == 0 ? m.FromUser : $"{m.FromUser}/{m.Device}")}: {what}";
    }

    public static JsonObject Json(UserPresence p) => new()
    {
        ["user"] = p.User, ["status"] = Status(p.Status), ["text"] = p.Text, ["lastSeen"] = p.LastSeen is null ? null : Time(p.LastSeen),
    };

    public static string Text(UserPresence p) =>
        $"{p.User}  {Status(p.Status)}{(p.Text.Length > 0 ? $"  \"{p.Text}\"" : "")}{(p.LastSeen is null ? "" : $"  last seen {TimeText(p.LastSeen)}")}";

    public static string Kind(ConversationKind k) => k switch
    {
        ConversationKind.Direct => "direct",
        ConversationKind.Group => "group",
        _ => "unknown",
    };

    public static string Role(V1Role r) => r switch
    {
        V1Role.Member => "member",
        V1Role.Admin => "admin",
        V1Role.Owner => "owner",
        _ => "unknown",
    };

    public static string Status(PresenceStatus s) => s switch
    {
        PresenceStatus.Offline => "offline",
        PresenceStatus.Online => "online",
        PresenceStatus.Away => "away",
        PresenceStatus.Busy => "busy",
        PresenceStatus.Invisible => "invisible",
        _ => "unknown",
    };

    public static string Time(Timestamp? t) => t is null ? "" : t.ToDateTimeOffset().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string TimeText(Timestamp? t) => t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Title(string title) => title.Length == 0 ? "" : $"  \"{title}\"";
}
