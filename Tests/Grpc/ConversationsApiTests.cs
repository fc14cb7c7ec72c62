using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary><c>im.v1.Conversations</c>: the same rules as the MQTT RPCs, with the system as a trusted actor.</summary>
[TestClass]
public sealed class ConversationsApiTests
{
    [TestMethod]
    public async Task GroupLifecycleAddsRemovesAndChangesRoles()
    {
        var api = await Api.SharedAsync();
        var (owner, bob, carol) = (await api.NewUserAsync(), await api.NewUserAsync(), await api.NewUserAsync());
        var create = new CreateConversationRequest { AsUser = owner, Kind = ConversationKind.Group, Title = "Team", Members = { bob } };

        var group = await api.Conversations.CreateConversationAsync(create);
        var added = await api.Conversations.AddMembersAsync(new AddMembersRequest { Conversation = group.Id, Users = { carol }, AsUser = owner });
        var promoted = await api.Conversations.SetRoleAsync(new SetRoleRequest { Conversation = group.Id, User = bob, Role = Role.Admin, AsUser = owner });
        var removed = await api.Conversations.RemoveMembersAsync(new RemoveMembersRequest { Conversation = group.Id, Users = { carol }, AsUser = bob });
        var asBob = await api.Conversations.GetConversationAsync(new GetConversationRequest { Conversation = group.Id, AsUser = bob });
        var asSystem = await api.Conversations.GetConversationAsync(new GetConversationRequest { Conversation = group.Id });

        Assert.AreEqual(ConversationKind.Group, group.Kind);
        Assert.AreEqual("Team", group.Title);
        StringAssert.StartsWith(group.Id, "g-");
        Assert.AreEqual(owner, group.Members[0].User, "the owner comes first");
        Assert.AreEqual(Role.Owner, group.Members[0].Role);
        Assert.HasCount(3, added.Members);
        Assert.AreEqual(Role.Admin, promoted.Members.Single(m => m.User == bob).Role);
        CollectionAssert.AreEquivalent(new[] { owner, bob }, removed.Members.Select(m => m.User).ToArray(), "an admin removed a member");
        Assert.AreEqual(removed, asBob);
        Assert.AreEqual(removed, asSystem);
    }

    [TestMethod]
    public async Task DirectConversationIsUniqueAndListedForBothUsers()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());

        var byAlice = await api.Conversations.CreateConversationAsync(new CreateConversationRequest { AsUser = alice, Kind = ConversationKind.Direct, Members = { bob } });
        var bySystem = await api.Conversations.CreateConversationAsync(new CreateConversationRequest { Kind = ConversationKind.Direct, Members = { bob, alice } });
        await api.SendAsync(byAlice.Id, "hello", from: alice, id: "d1");
        var list = await api.Conversations.ListConversationsAsync(new ListConversationsRequest { User = bob });

        Assert.AreEqual(Ids.Direct(alice, bob), byAlice.Id);
        Assert.AreEqual(byAlice.Id, bySystem.Id, "creating it again returns the same conversation");
        var entry = list.Conversations.Single(c => c.Id == byAlice.Id);
        Assert.AreEqual(ConversationKind.Direct, entry.Kind);
        Assert.AreEqual(1, entry.LastSeq);
    }

    [TestMethod]
    public async Task RefusalsCarryTheMatchingStatus()
    {
        var api = await Api.SharedAsync();
        var (owner, member, outsider, disabled) = (await api.NewUserAsync(), await api.NewUserAsync(), await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(owner, member);
        await api.Users.DisableUserAsync(new DisableUserRequest { User = disabled });

        await Refused.WithAsync(StatusCode.NotFound, () => api.Conversations.CreateConversationAsync(new CreateConversationRequest
            { AsUser = owner, Kind = ConversationKind.Group, Members = { Unique.User("nobody") } }).ResponseAsync, ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.NotFound, () => api.Conversations.GetConversationAsync(new GetConversationRequest
            { Conversation = Ids.NewGroup() }).ResponseAsync, ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.NotFound, () => api.Conversations.ListConversationsAsync(new ListConversationsRequest
            { User = Unique.User("nobody") }).ResponseAsync, ErrorCodes.NotFound);
        await Refused.WithAsync(StatusCode.PermissionDenied, () => api.Conversations.GetConversationAsync(new GetConversationRequest
            { Conversation = group, AsUser = outsider }).ResponseAsync, ErrorCodes.NotMember);
        await Refused.WithAsync(StatusCode.PermissionDenied, () => api.Conversations.AddMembersAsync(new AddMembersRequest
            { Conversation = group, Users = { outsider }, AsUser = member }).ResponseAsync, ErrorCodes.Forbidden);
        await Refused.WithAsync(StatusCode.PermissionDenied, () => api.Conversations.RemoveMembersAsync(new RemoveMembersRequest
            { Conversation = group, Users = { owner } }).ResponseAsync, ErrorCodes.Forbidden);
        await Refused.WithAsync(StatusCode.FailedPrecondition, () => api.Conversations.CreateConversationAsync(new CreateConversationRequest
            { AsUser = disabled, Kind = ConversationKind.Group }).ResponseAsync, ErrorCodes.Disabled);
        await Refused.WithAsync(StatusCode.InvalidArgument, () => api.Conversations.CreateConversationAsync(new CreateConversationRequest
            { AsUser = owner, Members = { member } }).ResponseAsync, ErrorCodes.BadRequest);
        await Refused.WithAsync(StatusCode.InvalidArgument, () => api.Conversations.GetConversationAsync(new GetConversationRequest
            { Conversation = "not a conversation" }).ResponseAsync, ErrorCodes.InvalidId);
        await Refused.WithAsync(StatusCode.InvalidArgument, () => api.Conversations.SetRoleAsync(new SetRoleRequest
            { Conversation = group, User = member }).ResponseAsync, ErrorCodes.BadRequest);
    }
}
