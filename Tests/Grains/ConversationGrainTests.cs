using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class ConversationGrainTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IConversationGrain Conv(string id) => _grains.GetGrain<IConversationGrain>(id);

    [TestMethod]
    public async Task DirectConversationIsUniquePerPair()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));

        var first = await Conv(Ids.Direct(a, b)).CreateDirectAsync(a, a, b);
        var second = await Conv(Ids.Direct(b, a)).CreateDirectAsync(b, b, a);

        Assert.AreEqual(first.Id, second.Id);
        Assert.AreEqual(ConversationKind.Direct, second.Kind);
        CollectionAssert.AreEquivalent(new[] { a, b }, second.Members.Select(m => m.User).ToArray());
        Assert.HasCount(1, await _grains.GetGrain<IUserGrain>(a).ListConversationsAsync());
    }

    [TestMethod]
    public async Task DirectConversationWithUnknownUserIsRefused()
    {
        var a = await Chat.NewUserAsync(_grains);
        var ghost = Unique.User();
        await Chat.RefusedAsync(() => Conv(Ids.Direct(a, ghost)).CreateDirectAsync(a, a, ghost), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task DirectConversationUnderTheWrongKeyIsRefused()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await Chat.RefusedAsync(() => Conv(Ids.NewGroup()).CreateDirectAsync(a, a, b), ErrorCodes.InvalidId);
    }

    [TestMethod]
    public async Task OutsiderCannotOpenSomeoneElsesDirectConversation()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await Chat.RefusedAsync(() => Conv(Ids.Direct(a, b)).CreateDirectAsync(c, a, b), ErrorCodes.Forbidden);
    }

    [TestMethod]
    public async Task GroupHasOwnerAndMembersAndTitle()
    {
        var (owner, m1, m2) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = Ids.NewGroup();

        var info = await Conv(id).CreateGroupAsync(owner, "Team", [m1, m2]);

        Assert.AreEqual("Team", info.Title);
        Assert.AreEqual(new Member(owner, MemberRole.Owner), info.Members[0]);
        Assert.HasCount(3, info.Members);
        Assert.IsTrue((await _grains.GetGrain<IUserGrain>(m2).ListConversationsAsync()).Any(c => c.Id == id));
    }

    [TestMethod]
    public async Task GroupOverTheSizeLimitIsRefused()
    {
        var owner = await Chat.NewUserAsync(_grains);
        var others = new List<string>();
        for (var i = 0; i < ClusterFixture.MaxGroupMembers; i++)
            others.Add(await Chat.NewUserAsync(_grains));

        await Chat.RefusedAsync(() => Conv(Ids.NewGroup()).CreateGroupAsync(owner, null, others), ErrorCodes.LimitExceeded);

        var id = await Chat.NewGroupAsync(_grains, owner, others.Take(ClusterFixture.MaxGroupMembers - 1).ToArray());
        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(owner, [others[^1]]), ErrorCodes.LimitExceeded);
    }

    [TestMethod]
    public async Task OnlyAdminsAddAndRemoveAndOnlyTheOwnerSetsRoles()
    {
        var (owner, admin, member, newcomer) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains),
            await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, owner, admin, member);

        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(member, [newcomer]), ErrorCodes.Forbidden);
        await Chat.RefusedAsync(() => Conv(id).SetRoleAsync(admin, member, MemberRole.Admin), ErrorCodes.Forbidden);

        await Conv(id).SetRoleAsync(owner, admin, MemberRole.Admin);
        await Conv(id).AddMembersAsync(admin, [newcomer]);
        await Chat.RefusedAsync(() => Conv(id).RemoveMembersAsync(admin, [owner]), ErrorCodes.Forbidden);
        var info = await Conv(id).RemoveMembersAsync(admin, [member]);

        CollectionAssert.AreEquivalent(new[] { owner, admin, newcomer }, info.Members.Select(m => m.User).ToArray());
        Assert.IsFalse((await _grains.GetGrain<IUserGrain>(member).ListConversationsAsync()).Any(c => c.Id == id));
        await Chat.RefusedAsync(() => Conv(id).SendAsync(member, "phone", "m1", "still here?"), ErrorCodes.NotMember);
    }

    [TestMethod]
    public async Task OwnerWhoLeavesHandsTheGroupOn()
    {
        var (owner, admin, member) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, owner, admin, member);
        await Conv(id).SetRoleAsync(owner, admin, MemberRole.Admin);

        await Conv(id).LeaveAsync(owner);

        var info = await Conv(id).GetAsync(admin);
        Assert.AreEqual(new Member(admin, MemberRole.Owner), info.Members[0]);
        Assert.HasCount(2, info.Members);
    }

    [TestMethod]
    public async Task AddingAnUnknownUserIsRefused()
    {
        var owner = await Chat.NewUserAsync(_grains);
        var id = await Chat.NewGroupAsync(_grains, owner);
        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(owner, [Unique.User()]), ErrorCodes.NotFound);
        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(owner, ["NOT valid"]), ErrorCodes.InvalidId);
    }

    [TestMethod]
    public async Task NonMemberCannotSendOrReadHistory()
    {
        var (a, b, outsider) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        await Chat.RefusedAsync(() => Conv(id).SendAsync(outsider, "phone", "x1", "hello"), ErrorCodes.NotMember);
        await Chat.RefusedAsync(() => Conv(id).HistoryAsync(outsider, new HistoryQuery()), ErrorCodes.NotMember);
    }

    [TestMethod]
    public async Task SendToUnknownConversationIsRefused()
    {
        var a = await Chat.NewUserAsync(_grains);
        await Chat.RefusedAsync(() => Conv(Ids.NewGroup()).SendAsync(a, "phone", "x1", "hello"), ErrorCodes.NotFound);
    }

    [TestMethod]
    public async Task BlockedSenderIsRefusedUntilUnblocked()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        await _grains.GetGrain<IUserGrain>(b).BlockAsync(a);
        await Chat.RefusedAsync(() => Conv(id).SendAsync(a, "phone", "m1", "hi"), ErrorCodes.Blocked);

        await _grains.GetGrain<IUserGrain>(b).UnblockAsync(a);
        var sent = await Conv(id).SendAsync(a, "phone", "m1", "hi");
        Assert.AreEqual(1, sent.Message.Seq);
    }

    [TestMethod]
    public async Task BlockedUserCannotOpenADirectConversation()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await _grains.GetGrain<IUserGrain>(b).BlockAsync(a);
        await Chat.RefusedAsync(() => Conv(Ids.Direct(a, b)).CreateDirectAsync(a, a, b), ErrorCodes.Blocked);
    }

    [TestMethod]
    public async Task OversizeBodyAndMissingIdAreRefused()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        await Chat.RefusedAsync(() => Conv(id).SendAsync(a, "phone", "m1", new string('x', ClusterFixture.MaxBodyLength + 1)), ErrorCodes.LimitExceeded);
        await Chat.RefusedAsync(() => Conv(id).SendAsync(a, "phone", "", "hi"), ErrorCodes.BadPayload);
        Assert.AreEqual(1, (await Conv(id).SendAsync(a, "phone", "m1", new string('x', ClusterFixture.MaxBodyLength))).Message.Seq,
            "refusals must not use up a seq");
    }

    [TestMethod]
    public async Task RetriedSendReturnsTheStoredMessageAndStoresNothingNew()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);

        var first = await Conv(id).SendAsync(a, "phone", "same-id", "hello");
        var retry = await Conv(id).SendAsync(a, "laptop", "same-id", "hello again");
        var other = await Conv(id).SendAsync(b, "phone", "same-id", "b's own message");

        Assert.IsFalse(first.Duplicate);
        Assert.IsTrue(retry.Duplicate);
        Assert.AreEqual(first.Message, retry.Message);
        Assert.AreEqual(2, other.Message.Seq, "client ids are per sender");
        Assert.HasCount(2, await Conv(id).HistoryAsync(a, new HistoryQuery()));
    }

    [TestMethod]
    public async Task RetryAfterAnAppendThatCommittedButFailedReturnsTheStoredMessage()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        await Conv(id).SendAsync(a, "phone", "m1", "before");
        FaultyMessageStore.FailNextAppendAfterCommit(id);

        await Chat.RefusedAsync(() => Conv(id).SendAsync(a, "phone", "m2", "outcome unknown"), ErrorCodes.Unavailable);
        var retry = await Conv(id).SendAsync(a, "phone", "m2", "outcome unknown");

        Assert.IsTrue(retry.Duplicate, "the retry finds the message the failed append stored");
        Assert.AreEqual(2, retry.Message.Seq);
        CollectionAssert.AreEqual(new[] { "m1", "m2" }, (await Conv(id).HistoryAsync(a, new HistoryQuery())).Select(m => m.Id).ToArray(),
            "stored once");
    }

    [TestMethod]
    public async Task ConcurrentSendersGetContiguousSeqsAndEachSendIsAnsweredOnce()
    {
        var owner = await Chat.NewUserAsync(_grains);
        var members = new List<string>();
        for (var i = 0; i < ClusterFixture.MaxGroupMembers - 1; i++)
            members.Add(await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, owner, members.ToArray());
        var senders = members.Append(owner).ToList();
        const int perSender = 40;

        // Every sender fires all its sends at once, and retries a tenth of them concurrently too.
        var sends = senders.SelectMany(s => Enumerable.Range(0, perSender).SelectMany(i =>
            i % 10 == 0
                ? new[] { Conv(id).SendAsync(s, "phone", $"m{i}", $"{s}:{i}"), Conv(id).SendAsync(s, "phone", $"m{i}", $"{s}:{i}") }
                : new[] { Conv(id).SendAsync(s, "phone", $"m{i}", $"{s}:{i}") })).ToList();
        var results = await Task.WhenAll(sends);

        var distinct = results.Select(r => r.Message).Distinct().ToList();
        Assert.HasCount(senders.Count * perSender, distinct);
        CollectionAssert.AreEqual(Enumerable.Range(1, distinct.Count).Select(i => (long)i).ToArray(),
            distinct.Select(m => m.Seq).Order().ToArray(), "seqs must be 1..N with no gap and no repeat");

        var history = await Conv(id).HistoryAsync(owner, new HistoryQuery(After: 0, Limit: 200));
        CollectionAssert.AreEqual(distinct.OrderBy(m => m.Seq).ToArray(), history.ToArray());
    }

    [TestMethod]
    public async Task HistoryPagesByKey()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        for (var i = 1; i <= 12; i++)
            await Conv(id).SendAsync(i % 2 == 0 ? a : b, "phone", $"m{i}", $"message {i}");

        var newest = await Conv(id).HistoryAsync(a, new HistoryQuery(Limit: 5));
        var older = await Conv(id).HistoryAsync(a, new HistoryQuery(Before: newest[0].Seq, Limit: 5));
        var after = await Conv(id).HistoryAsync(b, new HistoryQuery(After: 10));

        CollectionAssert.AreEqual(new long[] { 8, 9, 10, 11, 12 }, newest.Select(m => m.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 4, 5, 6, 7 }, older.Select(m => m.Seq).ToArray());
        CollectionAssert.AreEqual(new long[] { 11, 12 }, after.Select(m => m.Seq).ToArray());
        Assert.AreEqual("message 9", newest[1].Body);
        await Chat.RefusedAsync(() => Conv(id).HistoryAsync(a, new HistoryQuery(Before: 5, After: 1)), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task ConversationListCarriesTheLatestSeqAndReadMark()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewDirectAsync(_grains, a, b);
        for (var i = 1; i <= 3; i++)
            await Conv(id).SendAsync(a, "phone", $"m{i}", "hi");
        await Conv(id).MarkReadAsync(b, "phone", 2);

        var entry = (await _grains.GetGrain<IUserGrain>(b).ListConversationsAsync()).Single(c => c.Id == id);

        Assert.AreEqual(3, entry.LastSeq);
        Assert.AreEqual(2, entry.ReadSeq);
        await Chat.RefusedAsync(() => Conv(id).MarkReadAsync(b, "phone", 99), ErrorCodes.BadRequest);
    }

    [TestMethod]
    public async Task SystemSenderReachesAnyConversation()
    {
        var (a, b) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var id = await Chat.NewGroupAsync(_grains, a, b);

        var sent = await Conv(id).SendAsync(Ids.SystemUser, "", "notice-1", "maintenance tonight");

        Assert.AreEqual(Ids.SystemUser, sent.Message.From);
        Assert.AreEqual("maintenance tonight", (await Conv(id).HistoryAsync(b, new HistoryQuery())).Single().Body);
    }

    [TestMethod]
    public async Task OneUserCanPutAnotherInOnlyAFewConversations()
    {
        var (attacker, victim) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        for (var i = 0; i < ClusterFixture.MaxConversationsFromOneUser; i++)
        {
            var id = await Chat.NewGroupAsync(_grains, attacker, victim);
            await Conv(id).LeaveAsync(attacker); // the group passes to the victim, and stays on its list
        }

        await Chat.RefusedAsync(() => Chat.NewGroupAsync(_grains, attacker, victim), ErrorCodes.LimitExceeded);

        Assert.HasCount(ClusterFixture.MaxConversationsFromOneUser, await _grains.GetGrain<IUserGrain>(victim).GetJoinedAtAsync());
        await Chat.NewGroupAsync(_grains, await Chat.NewUserAsync(_grains), victim); // someone else still can
    }

    [TestMethod]
    public async Task ConversationsOthersPutAUserInNeverStopItsOwn()
    {
        var victim = await Chat.NewUserAsync(_grains);
        for (var filled = 0; filled < ClusterFixture.MaxConversationsPerUser;)
        {
            var other = await Chat.NewUserAsync(_grains);
            for (var i = 0; i < ClusterFixture.MaxConversationsFromOneUser && filled < ClusterFixture.MaxConversationsPerUser; i++, filled++)
                await Chat.NewGroupAsync(_grains, other, victim);
        }
        var stranger = await Chat.NewUserAsync(_grains);
        await Chat.RefusedAsync(() => Chat.NewGroupAsync(_grains, stranger, victim), ErrorCodes.LimitExceeded);

        var own = await Chat.NewGroupAsync(_grains, victim);
        var direct = await Chat.NewDirectAsync(_grains, victim, stranger);

        var joined = await _grains.GetGrain<IUserGrain>(victim).GetJoinedAtAsync();
        Assert.IsTrue(joined.ContainsKey(own) && joined.ContainsKey(direct), "the victim still creates and opens conversations");
    }

    [TestMethod]
    public async Task NobodyAddsAUserToAGroupWhomItBlocks()
    {
        var (owner, blocker, other) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await _grains.GetGrain<IUserGrain>(blocker).BlockAsync(owner);

        await Chat.RefusedAsync(() => Conv(Ids.NewGroup()).CreateGroupAsync(owner, null, [other, blocker]), ErrorCodes.Blocked);
        var id = await Chat.NewGroupAsync(_grains, owner, other);
        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(owner, [blocker]), ErrorCodes.Blocked);

        Assert.HasCount(1, (await _grains.GetGrain<IUserGrain>(other).GetJoinedAtAsync()).Keys, "the refused creation left nothing on other's list");
        Assert.IsEmpty(await _grains.GetGrain<IUserGrain>(blocker).GetJoinedAtAsync());
        await Conv(id).SetRoleAsync(owner, other, MemberRole.Admin);
        await Conv(id).AddMembersAsync(other, [blocker]); // someone it does not block can
    }

    [TestMethod]
    public async Task JoinRefusedForOneUserLeavesNoOtherUserWithAStrayEntry()
    {
        var (owner, busy, fresh) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        for (var i = 0; i < ClusterFixture.MaxConversationsFromOneUser; i++)
            await Chat.NewGroupAsync(_grains, owner, busy);
        var id = await Chat.NewGroupAsync(_grains, owner);

        await Chat.RefusedAsync(() => Conv(id).AddMembersAsync(owner, [fresh, busy]), ErrorCodes.LimitExceeded);

        Assert.IsFalse((await _grains.GetGrain<IUserGrain>(fresh).GetJoinedAtAsync()).ContainsKey(id), "fresh's list was rolled back");
        Assert.HasCount(1, (await Conv(id).GetAsync(owner)).Members);
        await Conv(id).AddMembersAsync(owner, [fresh]);
        Assert.IsTrue((await _grains.GetGrain<IUserGrain>(fresh).GetJoinedAtAsync()).ContainsKey(id));
    }
}
