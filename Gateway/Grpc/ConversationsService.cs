using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.Gateway.Grpc;

/// <summary><c>im.v1.Conversations</c>: the same grain calls the MQTT RPCs make, with an acting user that may be the system.</summary>
public sealed class ConversationsService(IGrainFactory grains) : Conversations.ConversationsBase
{
    public override async Task<Conversation> CreateConversation(CreateConversationRequest request, ServerCallContext context)
    {
        if (request.Kind is not (ConversationKind.Direct or ConversationKind.Group))
            throw Require.Invalid("kind", "must be CONVERSATION_KIND_DIRECT or CONVERSATION_KIND_GROUP");
        var by = Require.ActingUser(request.AsUser);
        var members = Require.Users(request.Members, "members");
        await Accounts.RequireEnabledAsync(grains, by);
        if (request.Kind == ConversationKind.Direct)
        {
            var pair = members.Append(by).Where(u => u != Ids.SystemUser).Distinct().ToList();
            if (pair.Count != 2)
                throw Require.Invalid("members", "of a direct conversation must name the one other user (or both users when as_user is empty)");
            return (await grains.Ref<IConversationGrain>(Ids.Direct(pair[0], pair[1])).CreateDirectAsync(by, pair[0], pair[1])).ToProto();
        }
        if (by == Ids.SystemUser)
            throw Require.Invalid("as_user", "of a group is its owner and must name a user");
        return (await grains.Ref<IConversationGrain>(Ids.NewGroup()).CreateGroupAsync(by, NullIfEmpty(request.Title), members)).ToProto();
    }

    public override async Task<Conversation> GetConversation(GetConversationRequest request, ServerCallContext context)
    {
        var (conversation, by) = await TargetAsync(request.Conversation, request.AsUser);
        return (await conversation.GetAsync(by)).ToProto();
    }

    public override async Task<ListConversationsResponse> ListConversations(ListConversationsRequest request, ServerCallContext context)
    {
        var user = Require.User(request.User, "user");
        await Accounts.RequireExistingAsync(grains, user);
        var response = new ListConversationsResponse();
        response.Conversations.AddRange((await grains.Ref<IUserGrain>(user).ListConversationsAsync()).Select(s => s.ToProto()));
        return response;
    }

    public override async Task<Conversation> AddMembers(AddMembersRequest request, ServerCallContext context)
    {
        var users = Require.Users(request.Users, "users", min: 1);
        var (conversation, by) = await TargetAsync(request.Conversation, request.AsUser);
        return (await conversation.AddMembersAsync(by, users)).ToProto();
    }

    public override async Task<Conversation> RemoveMembers(RemoveMembersRequest request, ServerCallContext context)
    {
        var users = Require.Users(request.Users, "users", min: 1);
        var (conversation, by) = await TargetAsync(request.Conversation, request.AsUser);
        return (await conversation.RemoveMembersAsync(by, users)).ToProto();
    }

    public override async Task<Conversation> SetRole(SetRoleRequest request, ServerCallContext context)
    {
        var user = Require.User(request.User, "user");
        var role = request.Role.ToDomain("role");
        var (conversation, by) = await TargetAsync(request.Conversation, request.AsUser);
        return (await conversation.SetRoleAsync(by, user, role)).ToProto();
    }

    public override async Task<SetRetentionResponse> SetRetention(SetRetentionRequest request, ServerCallContext context)
    {
        if (request.Days is < 0 or > 36_500)
            throw Require.Invalid("days", "must be 0 (the server's setting) to 36500");
        var (conversation, by) = await TargetAsync(request.Conversation, request.AsUser);
        await conversation.SetRetentionAsync(by, request.Days == 0 ? null : request.Days);
        return new SetRetentionResponse { Conversation = request.Conversation, Days = request.Days };
    }

    private async Task<(IConversationGrain Conversation, string By)> TargetAsync(string conversation, string asUser)
    {
        var id = Require.Conversation(conversation);
        var by = Require.ActingUser(asUser);
        await Accounts.RequireEnabledAsync(grains, by);
        return (grains.Ref<IConversationGrain>(id), by);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
