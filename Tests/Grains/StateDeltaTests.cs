using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Grains;

/// <summary><c>sync.delta</c> on the grains: what changed in a user's conversations since a time.</summary>
[TestClass]
public sealed class StateDeltaTests
{
    private static IClusterClient _grains = null!;

    [ClassInitialize]
    public static async Task Init(TestContext _) => _grains = await ClusterFixture.ClientAsync();

    private static IUserGrain User(string id) => _grains.GetGrain<IUserGrain>(id);
    private static IConversationGrain Conv(string id) => _grains.GetGrain<IConversationGrain>(id);

    [TestMethod]
    public async Task WithoutATokenEveryConversationIsInTheDelta()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        var direct = await Chat.NewDirectAsync(_grains, a, b);
        var group = await Chat.NewGroupAsync(_grains, c, a);

        var delta = await User(a).SyncDeltaAsync(null);

        CollectionAssert.AreEquivalent(new[] { direct, group }, delta.Changed.Select(d => d.Info.Id).ToArray());
        Assert.IsEmpty(delta.Removed);
    }

    [TestMethod]
    public async Task ADeltaHoldsOnlyWhatChangedSinceReadMarksMembersNewAndLeftConversations()
    {
        var (a, b, c) = (await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains), await Chat.NewUserAsync(_grains));
        await Chat.NewDirectAsync(_grains, a, c); // a quiet one: must not appear
        var direct = await Chat.NewDirectAsync(_grains, a, b);
        var leaving = await Chat.NewGroupAsync(_grains, b, a);
        await Conv(direct).SendAsync(a, "phone", "m1", "hi");
        var token = (await User(a).SyncDeltaAsync(null)).At;

        await Conv(direct).MarkReadAsync(b, "phone", 1);       // the peer read: a tick
        await Conv(direct).MarkReadAsync(a, "laptop", 1);      // a's other device read: the unread count
        var added = await Chat.NewGroupAsync(_grains, c, a);   // a was put in a new group
        await Conv(leaving).RemoveMembersAsync(b, [a]);        // and taken out of another
        var delta = await User(a).SyncDeltaAsync(token);

        CollectionAssert.AreEqual(new[] { direct, added }.Order(StringComparer.Ordinal).ToArray(), delta.Changed.Select(d => d.Info.Id).ToArray(),
            "the quiet conversation is not in it");
        var marks = delta.Changed.Single(d => d.Info.Id == direct).ReadMarks;
        Assert.AreEqual(1L, marks[b]);
        Assert.AreEqual(1L, marks[a]);
        CollectionAssert.AreEqual(new[] { leaving }, delta.Removed.ToArray());
        Assert.IsTrue(delta.At > token);
        Assert.IsEmpty((await User(a).SyncDeltaAsync(delta.At)).Changed, "nothing since");
    }
}
