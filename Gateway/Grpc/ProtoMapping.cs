using Google.Protobuf.WellKnownTypes;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.Gateway.Grpc;

/// <summary>Domain records to their <c>im.v1</c> messages and back. Domain types are spelled <c>Models.X</c>
/// because several share a name with their message (ConversationKind, ConversationSummary, Member).</summary>
public static class ProtoMapping
{
    public static User ToProto(this Models.UserProfile p)
    {
        var user = new User { Id = p.User, Disabled = p.Disabled, CreatedAt = Timestamp.FromDateTimeOffset(p.CreatedAt) };
        user.Devices.AddRange(p.Devices);
        return user;
    }

    public static Conversation ToProto(this Models.ConversationInfo c)
    {
        var conversation = new Conversation { Id = c.Id, Kind = c.Kind.ToProto(), Title = c.Title ?? "", LastSeq = c.LastSeq };
        conversation.Members.AddRange(c.Members.Select(m => new Member { User = m.User, Role = m.Role.ToProto() }));
        return conversation;
    }

    public static ConversationSummary ToProto(this Models.ConversationSummary s) => new()
    {
        Id = s.Id, Kind = s.Kind.ToProto(), Title = s.Title ?? "", LastSeq = s.LastSeq, ReadSeq = s.ReadSeq,
    };

    public static Message ToProto(this Models.MessageRecord m)
    {
        var message = new Message
        {
            Conversation = m.Conversation,
            Seq = m.Seq,
            ClientMessageId = m.Id,
            FromUser = m.From,
            Device = m.Device,
            Body = m.Body,
            Timestamp = Timestamp.FromDateTimeOffset(m.Timestamp),
            Kind = m.Kind ?? "",
            Target = m.Target ?? 0,
            ReplyTo = m.ReplyTo ?? 0,
            Edited = m.EditedAt is { } edited ? Timestamp.FromDateTimeOffset(edited) : null,
            Deleted = m.Deleted,
        };
        message.Mentions.AddRange(m.Mentions ?? []);
        message.Reactions.AddRange((m.Reactions ?? new Dictionary<string, IReadOnlyList<string>>())
            .Select(r => new Reaction { Emoji = r.Key, Users = { r.Value } }));
        message.Attachments.AddRange((m.Attachments ?? []).Select(a => new Attachment
        {
            Id = a.Id, Name = a.Name, Type = a.Type, Size = a.Size, Width = a.Width ?? 0, Height = a.Height ?? 0,
        }));
        return message;
    }

    public static UserPresence ToProto(this Models.PresenceInfo p)
    {
        var presence = new UserPresence { User = p.User, Status = StatusOf(p.Status), Text = p.Text ?? "" };
        if (p.LastSeen is { } seen)
            presence.LastSeen = Timestamp.FromDateTimeOffset(seen);
        return presence;
    }

    public static ConversationKind ToProto(this Models.ConversationKind kind) => kind switch
    {
        Models.ConversationKind.Direct => ConversationKind.Direct,
        Models.ConversationKind.Group => ConversationKind.Group,
        _ => ConversationKind.Unspecified,
    };

    public static Role ToProto(this Models.MemberRole role) => role switch
    {
        Models.MemberRole.Member => Role.Member,
        Models.MemberRole.Admin => Role.Admin,
        Models.MemberRole.Owner => Role.Owner,
        _ => Role.Unspecified,
    };

    public static Models.MemberRole ToDomain(this Role role, string field) => role switch
    {
        Role.Member => Models.MemberRole.Member,
        Role.Admin => Models.MemberRole.Admin,
        Role.Owner => Models.MemberRole.Owner,
        _ => throw Require.Invalid(field, "must be ROLE_MEMBER, ROLE_ADMIN or ROLE_OWNER"),
    };

    private static PresenceStatus StatusOf(string status) => status switch
    {
        Models.PresenceStatus.Offline => PresenceStatus.Offline,
        Models.PresenceStatus.Online => PresenceStatus.Online,
        Models.PresenceStatus.Away => PresenceStatus.Away,
        Models.PresenceStatus.Busy => PresenceStatus.Busy,
        Models.PresenceStatus.Invisible => PresenceStatus.Invisible,
        _ => PresenceStatus.Unspecified,
    };
}
