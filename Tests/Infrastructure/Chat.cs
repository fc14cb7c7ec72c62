namespace ImOrleans.Tests.Infrastructure;

/// <summary>Small helpers that set up users and conversations for grain tests.</summary>
public static class Chat
{
    public const string Password = "correct horse";

    public static async Task<string> NewUserAsync(IGrainFactory grains, string prefix = "u")
    {
        var id = Unique.User(prefix);
        await grains.GetGrain<IUserGrain>(id).CreateAsync(Password);
        return id;
    }

    public static async Task<string> NewDirectAsync(IGrainFactory grains, string a, string b)
    {
        var id = Ids.Direct(a, b);
        await grains.GetGrain<IConversationGrain>(id).CreateDirectAsync(a, a, b);
        return id;
    }

    public static async Task<string> NewGroupAsync(IGrainFactory grains, string owner, params string[] members)
    {
        var id = Ids.NewGroup();
        await grains.GetGrain<IConversationGrain>(id).CreateGroupAsync(owner, "test group", members);
        return id;
    }

    public static async Task<ImException> RefusedAsync(Func<Task> action, string expectedCode)
    {
        var ex = await Assert.ThrowsAsync<ImException>(action);
        Assert.AreEqual(expectedCode, ex.Code, ex.Message);
        return ex;
    }
}
