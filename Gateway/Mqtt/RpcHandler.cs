using System.Text.Json.Nodes;
using ImOrleans.Models;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Requests on <c>rpc/{method}</c>; the reply goes to <c>u/{me}/r</c> (or an own MQTT 5 ResponseTopic,
/// with its CorrelationData) as <c>{"rid","ok":true,"result"}</c> or <c>{"rid","ok":false,"error"}</c>.</summary>
public sealed class RpcHandler(IGrainFactory grains, DeviceConnections connections)
{
    private const int MaxListItems = 100;

    public async Task HandleAsync(DeviceConnection c, string method, JsonObject args, string? responseTopic, byte[]? correlation)
    {
        var rid = args["rid"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        var topic = responseTopic is { Length: > 0 } t && Topics.IsOwn(c.User, t) ? t : Topics.Replies(c.User);
        JsonNode reply;
        try
        {
            // A session can outlive the disabling of its account until its next lease renewal.
            if (!await grains.Ref<IUserGrain>(c.User).IsActiveAsync())
                throw new ImException(ErrorCodes.Disabled, $"user '{c.User}' is disabled");
            reply = Wire.ReplyOk(rid, await InvokeAsync(c, method, args));
        }
        catch (ImException ex)
        {
            reply = Wire.ReplyError(rid, ex.Code, ex.Message);
            connections.Send(c, Topics.Events(c.User), Wire.Error(rid, ex.Code, ex.Message));
        }
        connections.Send(c, topic, reply, correlation);
    }

    private async Task<JsonNode?> InvokeAsync(DeviceConnection c, string method, JsonObject a)
    {
        var me = grains.Ref<IUserGrain>(c.User);
        switch (method)
        {
            case "conv.create":
                return Wire.Conversation(await CreateAsync(c.User, a));
            case "conv.list":
                return new JsonObject { ["conversations"] = new JsonArray((await me.ListConversationsAsync()).Select(x => (JsonNode)Wire.Summary(x)).ToArray()) };
            case "conv.get":
                return Wire.Conversation(await Conv(a).GetAsync(c.User));
            case "conv.add":
                return Wire.Conversation(await Conv(a).AddMembersAsync(c.User, Users(a, "members")));
            case "conv.remove":
                return Wire.Conversation(await Conv(a).RemoveMembersAsync(c.User, Users(a, "members")));
            case "conv.reads":
                var marks = await Conv(a).GetReadMarksAsync(c.User);
                return new JsonObject { ["reads"] = new JsonObject(marks.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))) };
            case "conv.retention":
                // A number of days, or null to go back to the server-wide setting.
                var days = a["days"] is null ? null : PublishRouter.RequireLong(a, "days") is var d and >= 1 and <= 36_500
                    ? (int?)d : throw new ImException(ErrorCodes.BadRequest, "'days' must be 1 to 36500, or null");
                await Conv(a).SetRetentionAsync(c.User, days);
                return new JsonObject { ["conv"] = PublishRouter.RequireString(a, "conv"), ["days"] = days };
            case "conv.leave":
                await Conv(a).LeaveAsync(c.User);
                return null;
            case "conv.role":
                var role = PublishRouter.RequireString(a, "role") switch
                {
                    "member" => MemberRole.Member,
                    "admin" => MemberRole.Admin,
                    "owner" => MemberRole.Owner,
                    _ => throw WireErrors.BadPayload("'role' must be member, admin or owner"),
                };
                return Wire.Conversation(await Conv(a).SetRoleAsync(c.User, PublishRouter.RequireString(a, "user"), role));
            case "history":
                var query = new HistoryQuery(OptionalLong(a, "before"), OptionalLong(a, "after"), (int)(OptionalLong(a, "limit") ?? 50));
                var page = await Conv(a).HistoryAsync(c.User, query);
                return new JsonObject { ["messages"] = new JsonArray(page.Select(m => (JsonNode)Wire.Message(m)).ToArray()) };
            case "history.search":
                var found = await Conv(a).SearchAsync(c.User, PublishRouter.RequireString(a, "q"), OptionalLong(a, "before"),
                    (int)Math.Clamp(OptionalLong(a, "limit") ?? 20, 1, 100));
                return new JsonObject { ["messages"] = new JsonArray(found.Select(m => (JsonNode)Wire.Message(m)).ToArray()) };
            case "account.erase":
                // The password again, as for any act that cannot be undone: a stolen session alone must not erase.
                if (!await me.VerifyPasswordAsync(PublishRouter.RequireString(a, "password")))
                    throw new ImException(ErrorCodes.Forbidden, "wrong password");
                await me.EraseAsync();
                return null;
            case "sync.delta":
                var delta = await me.SyncDeltaAsync(SyncToken.Parse(PublishRouter.OptionalString(a, "token")));
                return new JsonObject
                {
                    ["conversations"] = new JsonArray(delta.Changed.Select(d =>
                    {
                        var o = Wire.Conversation(d.Info);
                        o["reads"] = new JsonObject(d.ReadMarks.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value)));
                        return (JsonNode)o;
                    }).ToArray()),
                    ["removed"] = new JsonArray(delta.Removed.Select(c => (JsonNode)c).ToArray()),
                    ["token"] = SyncToken.Of(delta.At),
                };
            case "sync":
                var pending = await grains.Ref<IDeviceGrain>(c.ClientId).SyncAsync(
                    (int)Math.Clamp(OptionalLong(a, "limit") ?? 100, 1, 500), PublishRouter.OptionalString(a, "next"));
                return new JsonObject
                {
                    ["messages"] = new JsonArray(pending.Messages.Select(m => (JsonNode)Wire.Message(m)).ToArray()),
                    ["next"] = pending.Next,
                };
            case "contacts.add":
                await me.AddContactAsync(PublishRouter.RequireString(a, "user"));
                return null;
            case "contacts.remove":
                await me.RemoveContactAsync(PublishRouter.RequireString(a, "user"));
                return null;
            case "contacts.list":
                return new JsonObject { ["contacts"] = new JsonArray((await me.ListContactsAsync()).Select(u => (JsonNode)u).ToArray()) };
            case "block":
                await me.BlockAsync(PublishRouter.RequireString(a, "user"));
                return null;
            case "unblock":
                await me.UnblockAsync(PublishRouter.RequireString(a, "user"));
                return null;
            case "blocks.list":
                return new JsonObject { ["users"] = new JsonArray((await me.ListBlockedAsync()).Select(u => (JsonNode)u).ToArray()) };
            case "presence.get":
                var users = Users(a, "users");
                foreach (var u in users)
                    Ids.RequireUser(u); // before any grain is activated for it
                var presence = await Task.WhenAll(users.Select(u => grains.Ref<IUserGrain>(u).GetPresenceAsync(c.User)));
                return new JsonObject { ["presence"] = new JsonArray(presence.Select(p => (JsonNode)Wire.Presence(p)).ToArray()) };
            case "device.list":
                return new JsonObject { ["devices"] = new JsonArray((await me.GetProfileAsync()).Devices.Select(d => (JsonNode)d).ToArray()) };
            case "device.remove":
                await me.RemoveDeviceAsync(PublishRouter.RequireString(a, "device"));
                return null;
            case var push when PushRpc.Methods.Contains(push):
                return await PushRpc.InvokeAsync(grains, c, method, a);
            default:
                throw new ImException(WireErrors.UnknownMethod, $"no RPC method '{method}'");
        }
    }

    private async Task<ConversationInfo> CreateAsync(string me, JsonObject a)
    {
        var members = Users(a, "members");
        switch (PublishRouter.RequireString(a, "kind"))
        {
            case "direct":
                var other = members.Where(m => m != me).Distinct().ToList();
                if (other.Count != 1)
                    throw new ImException(ErrorCodes.BadRequest, "a direct conversation takes exactly one other member");
                Ids.RequireUser(other[0], "member"); // before its id becomes a grain key
                return await grains.Ref<IConversationGrain>(Ids.Direct(me, other[0])).CreateDirectAsync(me, me, other[0]);
            case "group":
                return await grains.Ref<IConversationGrain>(Ids.NewGroup()).CreateGroupAsync(me, PublishRouter.OptionalString(a, "title"), members);
            default:
                throw WireErrors.BadPayload("'kind' must be direct or group");
        }
    }

    private IConversationGrain Conv(JsonObject a)
    {
        var id = PublishRouter.RequireString(a, "conv");
        if (!Ids.IsValidConversation(id))
            throw new ImException(ErrorCodes.NotFound, $"no conversation '{id}'");
        return grains.Ref<IConversationGrain>(id);
    }

    private static List<string> Users(JsonObject a, string name)
    {
        if (a[name] is not JsonArray array || array.Count > MaxListItems)
            throw WireErrors.BadPayload($"'{name}' must be an array of at most {MaxListItems} user ids");
        return array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw WireErrors.BadPayload($"'{name}' must hold strings")).ToList();
    }

    private static long? OptionalLong(JsonObject a, string name) => a[name] is null ? null : PublishRouter.RequireLong(a, name);
}
