using System.Security.Cryptography;
using System.Text;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>OPPO Push against a fake auth endpoint and push API.</summary>
[TestClass]
public sealed class OppoProviderTests
{
    private const string Token = "CN_078ad8b8a137cadb14ae5b70cf846312";

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync(Func<FakePushServer.Request, FakePushServer.Response> send)
    {
        var fake = await FakePushServer.StartAsync();
        var fetches = 0;
        fake.Respond = r => r.Path == "/server/v1/auth"
            ? new(200, $$$"""{"code":0,"message":"Success","data":{"auth_token":"oppo-{{{Interlocked.Increment(ref fetches)}}}","create_time":1}}""")
            : send(r);
        return (fake, new PushTestProviders(new()
        {
            ["Push:Oppo:AppKey"] = "oppo-key",
            ["Push:Oppo:MasterSecret"] = "oppo-master",
            ["Push:Oppo:ChannelId"] = "im_private",
            ["Push:Oppo:Endpoint"] = fake.BaseUrl,
        }));
    }

    private static FakePushServer.Response Ok(FakePushServer.Request _) => new(200, """{"code":0,"message":"Success","data":{"messageId":"m1"}}""");

    [TestMethod]
    public async Task ASignedAuthGivesATokenForAnImCategoryUnicast()
    {
        var (fake, providers) = await StartAsync(Ok);
        await using var _ = fake;
        using var __ = providers;
        var oppo = providers.Get<OppoProvider>();

        Assert.AreEqual(PushStatus.Sent, (await oppo.SendAsync(PushTestProviders.Notification("oppo", Token), default)).Status);
        Assert.AreEqual(PushStatus.Sent, (await oppo.SendAsync(PushTestProviders.Notification("oppo", Token), default)).Status);

        var auth = PushTestProviders.Form(fake.To("/server/v1/auth").Single().Body);
        Assert.AreEqual("oppo-key", auth["app_key"]);
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("oppo-key" + auth["timestamp"] + "oppo-master")));
        Assert.AreEqual(expected, auth["sign"], "sha256(app_key + timestamp + master_secret)");
        var send = PushTestProviders.Form(fake.To("/server/v1/message/notification/unicast")[0].Body);
        Assert.AreEqual("oppo-1", send["auth_token"]);
        var message = PushTestProviders.Json(send["message"]);
        Assert.AreEqual(2, (int)message["target_type"]!, "by registration id");
        Assert.AreEqual(Token, (string?)message["target_value"]);
        Assert.AreEqual("IM", (string?)message["notification"]!["category"]);
        Assert.AreEqual(2, (int)message["notification"]!["notify_level"]!);
        Assert.AreEqual("im_private", (string?)message["notification"]!["channel_id"]);
        Assert.AreEqual("alice", (string?)message["notification"]!["title"]);
        Assert.AreEqual(1, oppo.TokenFetches);
    }

    [TestMethod]
    public async Task AnInvalidAuthTokenIsFetchedAgainAndTheSendRepeated()
    {
        var (fake, providers) = await StartAsync(r => PushTestProviders.Form(r.Body)["auth_token"] == "oppo-1"
            ? new(200, """{"code":11,"message":"Invalid AuthToken"}""")
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var oppo = providers.Get<OppoProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(oppo).DeliverAsync(oppo, PushTestProviders.Notification("oppo", Token), default)).Status);
        Assert.AreEqual(2, oppo.TokenFetches);
    }

    [TestMethod]
    public async Task AnInvalidRegistrationIdIsADeadToken()
    {
        var (fake, providers) = await StartAsync(_ => new(200, """{"code":10000,"message":"Invalid RegistrationId"}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<OppoProvider>().SendAsync(PushTestProviders.Notification("oppo", Token), default)).Status);
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
        var oppo = providers.Get<OppoProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(oppo).DeliverAsync(oppo, PushTestProviders.Notification("oppo", Token), default)).Status);
        var sends = fake.To("/unicast");
        Assert.IsGreaterThanOrEqualTo(0.95, (sends[1].At - sends[0].At).TotalSeconds);
    }
}
