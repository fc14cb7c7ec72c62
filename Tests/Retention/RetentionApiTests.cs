using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Grpc;

namespace ImOrleans.Tests.Retention;

/// <summary>Setting a conversation's retention as an operator: the gRPC call and <c>imctl conv retention</c>.</summary>
[TestClass]
public sealed class RetentionApiTests
{
    [TestMethod]
    public async Task TheSystemSetsRetentionInAnyConversationAndAPlainMemberCannot()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync("ret"), await api.NewUserAsync("ret"));
        var group = await api.NewGroupAsync(alice, bob);
        var direct = await api.Conversations.CreateConversationAsync(new CreateConversationRequest
        {
            Kind = ConversationKind.Direct, Members = { alice, bob },
        });

        var set = await api.Conversations.SetRetentionAsync(new SetRetentionRequest { Conversation = direct.Id, Days = 7 });
        var byOwner = await api.Conversations.SetRetentionAsync(new SetRetentionRequest { Conversation = group, Days = 0, AsUser = alice });

        Assert.AreEqual(7, set.Days);
        Assert.AreEqual(0, byOwner.Days);
        await Refused.WithAsync(StatusCode.PermissionDenied, async () =>
            await api.Conversations.SetRetentionAsync(new SetRetentionRequest { Conversation = group, Days = 3, AsUser = bob }));
        await Refused.WithAsync(StatusCode.InvalidArgument, async () =>
            await api.Conversations.SetRetentionAsync(new SetRetentionRequest { Conversation = group, Days = 40_000 }));
    }

    [TestMethod]
    public async Task ImCtlSetsAConversationsRetention()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync("ret"), await api.NewUserAsync("ret"));
        var group = await api.NewGroupAsync(alice, bob);

        var text = await ImCtlRunner.RunAsync("conv", "retention", group, "30");
        var json = await ImCtlRunner.RunAsync("conv", "retention", group, "0", "--json");
        var refused = await ImCtlRunner.RunAsync("conv", "retention", group, "5", "--as", bob);

        Assert.AreEqual(0, text.ExitCode, text.ToString());
        Assert.AreEqual($"{group} keeps messages 30 days\n", text.Stdout);
        Assert.AreEqual(0, (int)json.Json.Single()["days"]!);
        Assert.AreNotEqual(0, refused.ExitCode, "a plain member may not");
    }
}
