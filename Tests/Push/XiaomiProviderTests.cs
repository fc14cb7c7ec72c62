using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>Xiaomi Mi Push against a fake push API.</summary>
[TestClass]
public sealed class XiaomiProviderTests
{
    private const string Token = "xiaomi/regid+0123456789=";

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync(Func<FakePushServer.Request, FakePushServer.Response> send)
    {
        var fake = await FakePushServer.StartAsync();
        fake.Respond = send;
        return (fake, new PushTestProviders(new()
        {
            ["Push:Xiaomi:AppSecret"] = "mi-secret",
            ["Push:Xiaomi:PackageName"] = "com.example.im",
            ["Push:Xiaomi:ChannelId"] = "im_private",
            ["Push:Xiaomi:Endpoint"] = fake.BaseUrl,
        }));
    }

    private static FakePushServer.Response Ok(FakePushServer.Request _) =>
        new(200, """{"result":"ok","trace_id":"t","code":0,"data":{"id":"m1"},"description":"成功","info":"Received push messages for 1 REGID"}""");

    [TestMethod]
    public async Task TheAppSecretAuthorizesAFormPostOnThePrivateMessageChannel()
    {
        var (fake, providers) = await StartAsync(Ok);
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.Sent, (await providers.Get<XiaomiProvider>().SendAsync(PushTestProviders.Notification("xiaomi", Token), default)).Status);

        var send = fake.Requests.Single();
        Assert.AreEqual("/v3/message/regid", send.Path);
        Assert.AreEqual("key=mi-secret", send.Header("authorization"));
        Assert.StartsWith("application/x-www-form-urlencoded", send.Header("content-type"));
        var form = PushTestProviders.Form(send.Body);
        Assert.AreEqual(Token, form["registration_id"]);
        Assert.AreEqual("com.example.im", form["restricted_package_name"]);
        Assert.AreEqual("alice", form["title"]);
        Assert.AreEqual(PushGrain.NoPreview, form["description"]);
        Assert.AreEqual("0", form["pass_through"], "a notification, not a pass-through message");
        Assert.AreEqual("im_private", form["extra.channel_id"], "the private-message channel");
        Assert.AreEqual("d:alice:bob", (string?)PushTestProviders.Json(form["payload"])["conv"]);
    }

    [TestMethod]
    public async Task ATokenListedAsBadIsDead()
    {
        var (fake, providers) = await StartAsync(_ => new(200, $$$"""{"result":"ok","code":0,"data":{"id":"m1","bad_regids":"{{{Token}}}"}}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<XiaomiProvider>().SendAsync(PushTestProviders.Notification("xiaomi", Token), default)).Status);
    }

    [TestMethod]
    public async Task AServerErrorIsRetriedAfterTheRetryAfterItGives()
    {
        var calls = 0;
        var (fake, providers) = await StartAsync(r => Interlocked.Increment(ref calls) == 1
            ? new(503, "", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var mi = providers.Get<XiaomiProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(mi).DeliverAsync(mi, PushTestProviders.Notification("xiaomi", Token), default)).Status);
        Assert.IsGreaterThanOrEqualTo(0.95, (fake.Requests[1].At - fake.Requests[0].At).TotalSeconds);
    }
}
