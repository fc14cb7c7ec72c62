namespace ImOrleans.Tests.Grains;

[TestClass]
public sealed class IdsTests
{
    [TestMethod]
    public void IdsEndingInANewlineAreInvalid()
    {
        var group = Ids.NewGroup();
        Assert.IsTrue(Ids.IsValidConversation(group));
        Assert.IsFalse(Ids.IsValidConversation(group + "\n"));
        Assert.IsFalse(Ids.IsValidConversation("d:alice:bob\n"));
        Assert.IsFalse(Ids.IsValidUser("system\n"));
        Assert.IsFalse(Ids.IsValidDevice("phone\n"));
    }
}
