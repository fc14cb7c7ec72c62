using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>Honor Push against a fake IAM token endpoint and push API.</summary>
[TestClass]
public sealed class HonorProviderTests
{
    private const string Token = "honor-token_0123456789";
    private const string AuthPath = "/auth/realms/developer/protocol/openid-connect/token";

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync(Func<FakePushServer.Request, FakePushServer.Response> send)
    {
        var fake = await FakePushServer.StartAsync();
        var fetches = 0;
        fake.Respond = r => r.Path == AuthPath
            ? new(200, $$"""{"access_token":"honor-{{Interlocked.Increment(ref fetches)}}","expires_in":3600}""")
            : send(r);
        return (fake, new PushTestProviders(new()
        {
            ["Push:Honor:AppId"] = "104400",
            ["Push:Honor:ClientId"] = "honor-client",
            ["Push:Honor:ClientSecret"] = "honor-secret",
            ["Push:Honor:AuthEndpoint"] = $"{fake.BaseUrl}{AuthPath}",
            ["Push:Honor:Endpoint"] = fake.BaseUrl,
        }));
    }

    private static FakePushServer.Response Ok(FakePushServer.Request _) =>
        new(200, """{"code":200,"message":"success","data":{"sendResult":true,"requestId":"r1","failTokens":[],"expireTokens":[]}}""");

    [TestMethod]
    public async Task AClientCredentialsTokenAuthorizesAServiceClassMessageWithATimestamp()
    {
        var (fake, providers) = await StartAsync(Ok);
        await using var _ = fake;
        using var __ = providers;
        var honor = providers.Get<HonorProvider>();

        Assert.AreEqual(PushStatus.Sent, (await honor.SendAsync(PushTestProviders.Notification("honor", Token), default)).Status);
        Assert.AreEqual(PushStatus.Sent, (await honor.SendAsync(PushTestProviders.Notification("honor", Token), default)).Status);

        var auth = PushTestProviders.Form(fake.To(AuthPath).Single().Body);
        Assert.AreEqual("client_credentials", auth["grant_type"]);
        Assert.AreEqual("honor-client", auth["client_id"]);
        Assert.AreEqual("honor-secret", auth["client_secret"]);
        var send = fake.To("/sendMessage")[0];
        Assert.AreEqual("/api/v1/104400/sendMessage", send.Path);
        Assert.AreEqual("Bearer honor-1", send.Header("authorization"));
        Assert.IsLessThan(60_000, Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - long.Parse(send.Header("timestamp"))), "a millisecond timestamp");
        var body = PushTestProviders.Json(send.Body);
        Assert.AreEqual(Token, (string?)body["token"]![0]);
        Assert.AreEqual("NORMAL", (string?)body["android"]!["notification"]!["importance"], "service and communication, not marketing");
        Assert.AreEqual("alice", (string?)body["android"]!["notification"]!["title"]);
        Assert.AreEqual(1, honor.TokenFetches);
    }

    [TestMethod]
    public async Task ATokenListedAsExpiredIsDead()
    {
        var (fake, providers) = await StartAsync(_ => new(200,
            $$$"""{"code":200,"message":"success","data":{"sendResult":false,"failTokens":[],"expireTokens":["{{{Token}}}"]}}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<HonorProvider>().SendAsync(PushTestProviders.Notification("honor", Token), default)).Status);
    }

    [TestMethod]
    public async Task TooManyRequestsIsRetriedAfterTheRetryAfterItGives()
    {
        var calls = 0;
        var (fake, providers) = await StartAsync(r => Interlocked.Increment(ref calls) == 1
            ? new(429, "", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var honor = providers.Get<HonorProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(honor).DeliverAsync(honor, PushTestProviders.Notification("honor", Token), default)).Status);
        var sends = fake.To("/sendMessage");
        Assert.IsGreaterThanOrEqualTo(0.95, (sends[1].At - sends[0].At).TotalSeconds);
    }
}
