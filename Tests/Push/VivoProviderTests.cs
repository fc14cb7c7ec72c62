using System.Security.Cryptography;
using System.Text;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>vivo Push against a fake auth endpoint and push API.</summary>
[TestClass]
public sealed class VivoProviderTests
{
    private const string Token = "15638535410301000000001";

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync(Func<FakePushServer.Request, FakePushServer.Response> send)
    {
        var fake = await FakePushServer.StartAsync();
        var fetches = 0;
        fake.Respond = r => r.Path == "/message/auth"
            ? new(200, $$"""{"result":0,"desc":"请求成功","authToken":"vivo-{{Interlocked.Increment(ref fetches)}}"}""")
            : send(r);
        return (fake, new PushTestProviders(new()
        {
            ["Push:Vivo:AppId"] = "10004",
            ["Push:Vivo:AppKey"] = "vivo-key",
            ["Push:Vivo:AppSecret"] = "vivo-secret",
            ["Push:Vivo:Endpoint"] = fake.BaseUrl,
        }));
    }

    private static FakePushServer.Response Ok(FakePushServer.Request _) => new(200, """{"result":0,"desc":"请求成功","taskId":"1"}""");

    [TestMethod]
    public async Task ASignedAuthGivesATokenForASystemClassImMessage()
    {
        var (fake, providers) = await StartAsync(Ok);
        await using var _ = fake;
        using var __ = providers;
        var vivo = providers.Get<VivoProvider>();

        Assert.AreEqual(PushStatus.Sent, (await vivo.SendAsync(PushTestProviders.Notification("vivo", Token), default)).Status);
        Assert.AreEqual(PushStatus.Sent, (await vivo.SendAsync(PushTestProviders.Notification("vivo", Token), default)).Status);

        var auth = PushTestProviders.Json(fake.To("/message/auth").Single().Body);
        Assert.AreEqual("10004", (string?)auth["appId"]);
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("10004" + "vivo-key" + (long)auth["timestamp"]! + "vivo-secret")));
        Assert.AreEqual(expected, (string?)auth["sign"], "md5(appId + appKey + timestamp + appSecret), lower case");
        var send = fake.To("/message/send")[0];
        Assert.AreEqual("vivo-1", send.Header("authToken"));
        var body = PushTestProviders.Json(send.Body);
        Assert.AreEqual(Token, (string?)body["regId"]);
        Assert.AreEqual(1, (int)body["classification"]!, "system message: the IM class");
        Assert.AreEqual("IM", (string?)body["category"]);
        Assert.AreEqual("alice", (string?)body["title"]);
        Assert.AreEqual(PushGrain.NoPreview, (string?)body["content"]);
        Assert.AreEqual("d:alice:bob", (string?)body["clientCustomMap"]!["conv"]);
        Assert.IsFalse(string.IsNullOrEmpty((string?)body["requestId"]));
        Assert.AreEqual(1, vivo.TokenFetches);
    }

    [TestMethod]
    public async Task AnInvalidRegIdIsADeadToken()
    {
        var (fake, providers) = await StartAsync(_ => new(200, $$$"""{"result":10302,"desc":"regId不合法","invalidUser":{"status":1,"userid":"{{{Token}}}"}}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<VivoProvider>().SendAsync(PushTestProviders.Notification("vivo", Token), default)).Status);
    }

    [TestMethod]
    public async Task AServerErrorIsRetriedAfterTheRetryAfterItGives()
    {
        var calls = 0;
        var (fake, providers) = await StartAsync(r => Interlocked.Increment(ref calls) == 1
            ? new(500, "", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var vivo = providers.Get<VivoProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(vivo).DeliverAsync(vivo, PushTestProviders.Notification("vivo", Token), default)).Status);
        var sends = fake.To("/message/send");
        Assert.IsGreaterThanOrEqualTo(0.95, (sends[1].At - sends[0].At).TotalSeconds);
    }
}
