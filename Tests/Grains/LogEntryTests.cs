using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

/// <summary>Replies, edits, deletes, reactions, mentions, search and erasure as entries of the conversation log
/// (docs/protocol.md §16), on the grains with the real SQLite store.</summary>
[TestClass]
public sealed class LogEntryTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IConversationGrain Conv(string id) => _grains.GetGrain<IConversationGrain>(id);

    private static Task<SendResult> Post(string conv, string from, string id, EntryRequest entry) =>
        Conv(conv).PostAsync(from, "phone", id, entry);

    private static async Task<IReadOnlyList<MessageRecord>> History(string conv, string by) =>
        await Conv(conv).HistoryAsync(by, new HistoryQuery());

    private static async Task<(string A, string B, string Conv)> DirectAsync()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        return (a, b, await Chat.NewDirectAsync(_grains, a, b));
    }

    [TestMethod]
    public async Task AReplyNamesItsMessageAndAnUnknownOneIsNotFound()
    {
        var (a, b, conv) = await DirectAsync();
        await Conv(conv).SendAsync(a, "phone", "m1", "question?");

        var reply = await Post(conv, b, "m2", EntryRequest.Message("answer", replyTo: 1));

        Assert.AreEqual(1L, reply.Message.ReplyTo);
        Assert.AreEqual(1L, (await History(conv, a))[1].ReplyTo);
        await Chat.RefusedAsync(() => Post(conv, b, "m3", EntryRequest.Message("?", replyTo: 99)), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task AnEditReplacesTheTextInHistoryAndNoEarlierTextIsServed()
    {
        var (a, b, conv) = await DirectAsync();
        await Conv(conv).SendAsync(a, "phone", "m1", "helo");

        var first = await Post(conv, a, "e1", new EntryRequest(EntryKinds.Edit, "hello", 1));
        await Post(conv, a, "e2", new EntryRequest(EntryKinds.Edit, "hello, Bob", 1, Mentions: [b]));

        var history = await History(conv, b);
        CollectionAssert.AreEqual(new[] { "hello, Bob", "hello, Bob", "hello, Bob" }, history.Select(m => m.Body).ToArray());
        Assert.AreEqual(EntryKinds.Edit, first.Message.Kind);
        Assert.AreEqual(1L, first.Message.Target);
        Assert.AreEqual(history[2].Timestamp, history[0].EditedAt, "edited at the latest edit");
        CollectionAssert.AreEqual(new[] { b }, history[0].Mentions!.ToArray());
    }

    [TestMethod]
    public async Task EditingSomeoneElsesMessageIsForbidden()
    {
        var (a, b, conv) = await DirectAsync();
        await Conv(conv).SendAsync(a, "phone", "m1", "mine");
        await Chat.RefusedAsync(() => Post(conv, b, "e1", new EntryRequest(EntryKinds.Edit, "yours now", 1)), ErrorCodes.Forbidden);
        Assert.AreEqual("mine", (await History(conv, a)).Single().Body);
    }

    [TestMethod]
    public async Task AnEditPastTheEditWindowIsForbidden()
    {
        var (a, _, conv) = await DirectAsync();
        var sent = await Conv(conv).SendAsync(a, "phone", "m1", "old");
        // The window is a span of time: waiting it out is what the test is about.
        await Task.Delay(ClusterFixture.EditWindow + TimeSpan.FromMilliseconds(200));

        var ex = await Chat.RefusedAsync(() => Post(conv, a, "e1", new EntryRequest(EntryKinds.Edit, "new", 1)), ErrorCodes.Forbidden);
        StringAssert.Contains(ex.Message, "passed");
        Assert.AreEqual(sent.Message.Body, (await History(conv, a)).Single().Body);
    }

    [TestMethod]
    public async Task ADeleteLeavesATombstoneAndTheTextIsGone()
    {
        var (a, b, conv) = await DirectAsync();
        await Conv(conv).SendAsync(a, "phone", "m1", "regrettable");
        await Post(conv, b, "r1", new EntryRequest(EntryKinds.React, "😮", 1));

        var delete = await Post(conv, a, "d1", EntryRequest.Delete(1));

        var history = await History(conv, b);
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, history.Select(m => m.Seq).ToArray(), "the seq stays");
        Assert.IsTrue(history[0].Deleted);
        Assert.AreEqual("", history[0].Body);
        Assert.IsNull(history[0].Reactions);
        Assert.AreEqual(EntryKinds.Delete, delete.Message.Kind);
        await Chat.RefusedAsync(() => Post(conv, a, "e1", new EntryRequest(EntryKinds.Edit, "back", 1)), ErrorCodes.NotFound);
        await Chat.RefusedAsync(() => Post(conv, b, "r2", new EntryRequest(EntryKinds.React, "👍", 1)), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task AGroupAdminMayDeleteAMembersMessageButAnotherMemberMayNot()
    {
        var (owner, m1, m2) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var conv = await Chat.NewGroupAsync(_grains, owner, m1, m2);
        await Conv(conv).SendAsync(m1, "phone", "m1", "spam");
        await Conv(conv).SendAsync(m1, "phone", "m2", "more spam");

        await Chat.RefusedAsync(() => Post(conv, m2, "d1", EntryRequest.Delete(1)), ErrorCodes.Forbidden);
        await Post(conv, owner, "d1", EntryRequest.Delete(1));
        await Conv(conv).SetRoleAsync(owner, m2, MemberRole.Admin);
        await Post(conv, m2, "d2", EntryRequest.Delete(2));

        var history = await History(conv, owner);
        Assert.IsTrue(history[0].Deleted && history[1].Deleted);
    }

    [TestMethod]
    public async Task ReactionsAreOnePerUserPerEmojiAndCountedOnTheMessage()
    {
        var (owner, m1, m2) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var conv = await Chat.NewGroupAsync(_grains, owner, m1, m2);
        await Conv(conv).SendAsync(owner, "phone", "m1", "party tonight");

        await Post(conv, m1, "r1", new EntryRequest(EntryKinds.React, "🎉", 1));
        await Post(conv, m2, "r2", new EntryRequest(EntryKinds.React, "🎉", 1));
        await Post(conv, m2, "r3", new EntryRequest(EntryKinds.React, "👍", 1));
        await Chat.RefusedAsync(() => Post(conv, m1, "r4", new EntryRequest(EntryKinds.React, "🎉", 1)), ErrorCodes.AlreadyExists);
        await Post(conv, m2, "u1", new EntryRequest(EntryKinds.Unreact, "👍", 1));
        await Chat.RefusedAsync(() => Post(conv, m2, "u2", new EntryRequest(EntryKinds.Unreact, "👍", 1)), ErrorCodes.NotFound);

        var message = (await History(conv, owner))[0];
        Assert.HasCount(1, message.Reactions!);
        CollectionAssert.AreEqual(new[] { m1, m2 }, message.Reactions!["🎉"].ToArray());
    }

    [TestMethod]
    public async Task ReactingWhereNotAMemberAndWithABadEmojiOrTargetIsRefused()
    {
        var (a, b, conv) = await DirectAsync();
        var outsider = await Chat.NewUserAsync(_grains);
        await Conv(conv).SendAsync(a, "phone", "m1", "hi");
        await Post(conv, b, "r1", new EntryRequest(EntryKinds.React, "👍", 1));

        await Chat.RefusedAsync(() => Post(conv, outsider, "r1", new EntryRequest(EntryKinds.React, "👍", 1)), ErrorCodes.NotMember);
        await Chat.RefusedAsync(() => Post(conv, b, "r2", new EntryRequest(EntryKinds.React, "thumbs up", 1)), ErrorCodes.BadRequest);
        await Chat.RefusedAsync(() => Post(conv, b, "r3", new EntryRequest(EntryKinds.React, "", 1)), ErrorCodes.BadRequest);
        await Chat.RefusedAsync(() => Post(conv, b, "r4", new EntryRequest(EntryKinds.React, "👍", 7)), ErrorCodes.NotFound);
        // Seq 2 is an entry (a reaction), not a message.
        await Chat.RefusedAsync(() => Post(conv, b, "r5", new EntryRequest(EntryKinds.React, "😀", 2)), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task MentionsMustNameMembers()
    {
        var (owner, m1) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var stranger = await Chat.NewUserAsync(_grains);
        var conv = await Chat.NewGroupAsync(_grains, owner, m1);

        var sent = await Post(conv, owner, "m1", EntryRequest.Message($"@{m1} look", mentions: [m1, m1]));

        CollectionAssert.AreEqual(new[] { m1 }, sent.Message.Mentions!.ToArray(), "each member once");
        await Chat.RefusedAsync(() => Post(conv, owner, "m2", EntryRequest.Message("hey", mentions: [stranger])), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task ARetriedEntryWithTheSameIdIsStoredOnce()
    {
        var (a, b, conv) = await DirectAsync();
        await Conv(conv).SendAsync(a, "phone", "m1", "hi");

        var first = await Post(conv, b, "r1", new EntryRequest(EntryKinds.React, "👍", 1));
        var again = await Post(conv, b, "r1", new EntryRequest(EntryKinds.React, "👍", 1));
        var delete = await Post(conv, a, "d1", EntryRequest.Delete(1));
        var deleteAgain = await Post(conv, a, "d1", EntryRequest.Delete(1));

        Assert.IsTrue(again.Duplicate && deleteAgain.Duplicate);
        Assert.AreEqual(first.Message.Seq, again.Message.Seq);
        Assert.AreEqual(delete.Message.Seq, deleteAgain.Message.Seq);
        Assert.HasCount(3, await History(conv, a));
    }

    [TestMethod]
    public async Task SearchIsForMembersAndFindsTheLatestTextOfLiveMessages()
    {
        var (a, b, conv) = await DirectAsync();
        var outsider = await Chat.NewUserAsync(_grains);
        await Conv(conv).SendAsync(a, "phone", "m1", "meet at the station");
        await Conv(conv).SendAsync(b, "phone", "m2", "which station?");
        await Post(conv, b, "e2", new EntryRequest(EntryKinds.Edit, "which platform?", 2));
        await Conv(conv).SendAsync(a, "phone", "m3", "station secrets");
        await Post(conv, a, "d3", EntryRequest.Delete(4));

        var found = await Conv(conv).SearchAsync(b, "station", null, 10);

        CollectionAssert.AreEqual(new long[] { 1 }, found.Select(m => m.Seq).ToArray());
        Assert.AreEqual(2L, (await Conv(conv).SearchAsync(a, "platform", null, 10)).Single().Seq);
        await Chat.RefusedAsync(() => Conv(conv).SearchAsync(outsider, "station", null, 10), ErrorCodes.NotMember);
        await Chat.RefusedAsync(() => Conv(conv).SearchAsync(a, "  ", null, 10), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task ErasingAnAccountTombstonesItsMessagesEverywhereAndRemovesIt()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var direct = await Chat.NewDirectAsync(_grains, a, b);
        var group = await Chat.NewGroupAsync(_grains, a, b);
        var left = await Chat.NewGroupAsync(_grains, b, a);
        await Conv(left).SendAsync(a, "phone", "m1", "said before leaving");
        await Conv(left).LeaveAsync(a);
        await Conv(direct).SendAsync(a, "phone", "m1", "my address is …");
        await Conv(direct).SendAsync(b, "phone", "m2", "thanks");
        await Conv(group).SendAsync(a, "phone", "m1", "group secret");
        await _grains.GetGrain<IUserGrain>(a).RegisterDeviceAsync("phone");

        await _grains.GetGrain<IUserGrain>(a).EraseAsync();

        var direct1 = await History(direct, b);
        CollectionAssert.AreEqual(new[] { "", "thanks", "" }, direct1.Select(m => m.Body).ToArray());
        Assert.IsTrue(direct1[0].Deleted);
        Assert.AreEqual(EntryKinds.Erase, direct1[2].Kind);
        Assert.AreEqual(a, direct1[2].From);
        var groupHistory = await History(group, b);
        Assert.IsTrue(groupHistory[0].Deleted);
        var leftHistory = await History(left, b);
        Assert.IsTrue(leftHistory[0].Deleted, "a conversation it had left too");
        Assert.AreEqual(EntryKinds.Erase, leftHistory[^1].Kind);
        var info = await Conv(group).GetAsync(b);
        CollectionAssert.AreEqual(new[] { b }, info.Members.Select(m => m.User).ToArray(), "the erased user left; ownership passed on");
        Assert.AreEqual(MemberRole.Owner, info.Members[0].Role);
        var profile = await _grains.GetGrain<IUserGrain>(a).GetProfileAsync();
        Assert.IsFalse(profile.Exists);
        Assert.IsEmpty(profile.Devices);
        Assert.IsFalse(await _grains.GetGrain<IUserGrain>(a).VerifyPasswordAsync(Chat.Password));
        await Chat.RefusedAsync(() => _grains.GetGrain<IUserGrain>(a).CreateAsync(Chat.Password), ErrorCodes.AlreadyExists);
    }
}
