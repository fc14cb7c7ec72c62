using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

/// <summary>The batch a gateway makes of a connection's messages to one conversation (<see cref="IConversationGrain.PostManyAsync"/>).</summary>
[TestClass]
public sealed class PostManyTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IConversationGrain Conv(string id) => _grains.GetGrain<IConversationGrain>(id);

    private static NewMessage Msg(string id, string body) => new(id, EntryRequest.Message(body));

    [TestMethod]
    public async Task MessagesAreStoredInTheirOrderAndABadOneIsRefusedAlone()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        await Conv(id).SendAsync(a, "phone", "m0", "before");

        var outcomes = await Conv(id).PostManyAsync(a, "phone",
            [Msg("m1", "one"), Msg("m2", new string('x', ClusterFixture.MaxBodyLength + 1)), Msg("m3", "three"), Msg("", "no id")]);

        Assert.AreEqual($"2,{ErrorCodes.LimitExceeded},3,{ErrorCodes.BadPayload}", string.Join(",", outcomes.Select(o => o.Result?.Message.Seq.ToString() ?? o.ErrorCode)));
        var history = await Conv(id).HistoryAsync(b, new HistoryQuery());
        Assert.AreEqual("m0:1,m1:2,m3:3", string.Join(",", history.Select(m => $"{m.Id}:{m.Seq}")), "no gap where the refused one was");
        Assert.AreEqual("phone", history[^1].Device);
    }

    [TestMethod]
    public async Task RetriesAndRepeatsWithinTheCallAreStoredOnce()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        await Conv(id).SendAsync(a, "phone", "m1", "one");

        var outcomes = await Conv(id).PostManyAsync(a, "phone", [Msg("m1", "one"), Msg("m2", "two"), Msg("m2", "two")]);

        Assert.AreEqual("1:True,2:False,2:True", string.Join(",", outcomes.Select(o => $"{o.Result!.Message.Seq}:{o.Result.Duplicate}")));
        Assert.HasCount(2, await Conv(id).HistoryAsync(b, new HistoryQuery()));
    }

    [TestMethod]
    public async Task ASenderWhoMayNotPostFailsTheWholeCall()
    {
        var (a, b, stranger) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        await Chat.RefusedAsync(() => Conv(id).PostManyAsync(stranger, "phone", [Msg("m1", "hi")]), ErrorCodes.NotMember);
        Assert.IsEmpty(await Conv(id).HistoryAsync(b, new HistoryQuery()));
    }

    [TestMethod]
    public async Task OnlyPlainMessagesGoTogether()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        var outcomes = await Conv(id).PostManyAsync(a, "phone", [Msg("m1", "one"), new NewMessage("d1", EntryRequest.Delete(1))]);

        Assert.AreEqual(1, outcomes[0].Result?.Message.Seq);
        Assert.AreEqual(ErrorCodes.BadRequest, outcomes[1].ErrorCode, "an edit, delete or reaction goes alone (PostAsync), after what came before it");
    }

    [TestMethod]
    public async Task AnAppendOfUnknownOutcomeIsFoundByTheRetryAndLeavesNoGap()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        FaultyMessageStore.FailNextAppendAfterCommit(id);

        await Chat.RefusedAsync(() => Conv(id).PostManyAsync(a, "phone", [Msg("m1", "one"), Msg("m2", "two")]), ErrorCodes.Unavailable);
        var retry = await Conv(id).PostManyAsync(a, "phone", [Msg("m1", "one"), Msg("m2", "two"), Msg("m3", "three")]);

        Assert.AreEqual("1:True,2:True,3:False", string.Join(",", retry.Select(o => $"{o.Result!.Message.Seq}:{o.Result.Duplicate}")));
        Assert.AreEqual("m1,m2,m3", string.Join(",", (await Conv(id).HistoryAsync(b, new HistoryQuery())).Select(m => m.Id)));
    }
}
