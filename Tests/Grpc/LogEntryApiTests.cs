using Grpc.Core;
using ImOrleans.Gateway.Grpc.V1;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grpc;

/// <summary>What the internal API and ImCtl give an operator over the log's entries: delete a message, purge a user,
/// search; and the entry fields on <c>Message</c>.</summary>
[TestClass]
public sealed class LogEntryApiTests
{
    [TestMethod]
    public async Task TheSystemDeletesAnyMessageAndMembersGetTheDeleteEntry()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await api.SendAsync(group, "abusive text", from: bob, id: "m1");

        var deleted = await api.Messages.DeleteMessageAsync(new DeleteMessageRequest { Conversation = group, Seq = 1, ClientMessageId = "mod-1" });

        Assert.AreEqual("delete", deleted.Message.Kind);
        Assert.AreEqual(1L, deleted.Message.Target);
        Assert.AreEqual(Ids.SystemUser, deleted.Message.FromUser);
        await alicePhone.WaitForAsync("m", m => (string?)m["id"] == "mod-1" && (string?)m["kind"] == "delete", "the delete entry over MQTT");
        var history = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, AsUser = alice });
        Assert.IsTrue(history.Messages[0].Deleted);
        Assert.AreEqual("", history.Messages[0].Body);
        await Refused.WithAsync(StatusCode.NotFound,
            async () => await api.Messages.DeleteMessageAsync(new DeleteMessageRequest { Conversation = group, Seq = 1 }), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task AMemberDeletesOnlyItsOwnMessage()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        await api.SendAsync(group, "alice says", from: alice, id: "m1");

        await Refused.WithAsync(StatusCode.PermissionDenied,
            async () => await api.Messages.DeleteMessageAsync(new DeleteMessageRequest { Conversation = group, Seq = 1, AsUser = bob }), ErrorCodes.Forbidden);
        var own = await api.Messages.DeleteMessageAsync(new DeleteMessageRequest { Conversation = group, Seq = 1, AsUser = alice });
        Assert.AreEqual(alice, own.Message.FromUser);
    }

    [TestMethod]
    public async Task RepliesMentionsAndSearchThroughTheApi()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        await api.SendAsync(group, "quarterly numbers are in", from: alice, id: "m1");

        var reply = await api.Messages.SendMessageAsync(new SendMessageRequest
            { Conversation = group, FromUser = bob, Body = "numbers look good", ReplyTo = 1, Mentions = { alice } });
        var found = await api.Messages.SearchMessagesAsync(new SearchMessagesRequest { Conversation = group, AsUser = alice, Query = "numbers" });

        Assert.AreEqual(1L, reply.Message.ReplyTo);
        CollectionAssert.AreEqual(new[] { alice }, reply.Message.Mentions.ToArray());
        CollectionAssert.AreEqual(new long[] { 2, 1 }, found.Messages.Select(m => m.Seq).ToArray());
        await Refused.WithAsync(StatusCode.PermissionDenied, async () => await api.Messages.SearchMessagesAsync(
            new SearchMessagesRequest { Conversation = group, AsUser = await api.NewUserAsync(), Query = "numbers" }), ErrorCodes.NotMember);
    }

    [TestMethod]
    public async Task PurgingAUserTombstonesItsMessagesAndTheAccountIsGone()
    {
        var api = await Api.SharedAsync();
        var (alice, bob) = (await api.NewUserAsync(), await api.NewUserAsync());
        var group = await api.NewGroupAsync(alice, bob);
        await api.SendAsync(group, "personal data", from: bob, id: "m1");
        await using var bobPhone = await GatewayFixture.ConnectAsync(bob, "phone");

        await api.Users.PurgeUserAsync(new PurgeUserRequest { User = bob });

        await Eventually.TrueAsync(() => !bobPhone.IsConnected, "bob's session ends");
        var history = await api.Messages.GetHistoryAsync(new GetHistoryRequest { Conversation = group, AsUser = alice });
        Assert.IsTrue(history.Messages[0].Deleted);
        Assert.AreEqual("erase", history.Messages[^1].Kind);
        await Refused.WithAsync(StatusCode.NotFound, async () => await api.Users.GetUserAsync(new GetUserRequest { User = bob }));
        await Refused.WithAsync(StatusCode.NotFound, async () => await api.Users.PurgeUserAsync(new PurgeUserRequest { User = bob }));
    }

    [TestMethod]
    public async Task ImCtlDeletesAMessageAndPurgesAUser()
    {
        var (alice, bob) = (Unique.User("cli"), Unique.User("cli"));
        foreach (var u in new[] { alice, bob })
            Assert.AreEqual(0, (await ImCtlRunner.RunAsync("user", "add", u, "--password", Chat.Password)).ExitCode);
        var conv = (string)(await ImCtlRunner.RunAsync("conv", "create", "--as", alice, "--group", "--members", bob, "--json")).Json.Single()["id"]!;
        await ImCtlRunner.RunAsync("send", conv, "to be deleted", "--as", alice);
        await ImCtlRunner.RunAsync("send", conv, "bob's data", "--as", bob);

        var delete = await ImCtlRunner.RunAsync("delete", conv, "1");
        var search = await ImCtlRunner.RunAsync("search", conv, "data", "--as", alice, "--json");
        var noYes = await ImCtlRunner.RunAsync("user", "purge", bob);
        var purge = await ImCtlRunner.RunAsync("user", "purge", bob, "--yes");
        var history = await ImCtlRunner.RunAsync("history", conv);

        Assert.AreEqual(0, delete.ExitCode, delete.ToString());
        StringAssert.Contains(delete.Stdout, $"deleted {conv} #1");
        Assert.AreEqual(2L, (long?)search.Json.Single()["seq"], search.ToString());
        Assert.AreEqual(2, noYes.ExitCode, "purging asks for --yes: " + noYes);
        Assert.AreEqual(0, purge.ExitCode, purge.ToString());
        Assert.AreEqual($"purged user {bob}\n", purge.Stdout);
        StringAssert.Contains(history.Stdout, "#1");
        StringAssert.Contains(history.Stdout, "(deleted)");
        Assert.IsFalse(history.Stdout.Contains("bob's data", StringComparison.Ordinal), history.Stdout);
    }
}
