using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>Huawei Push Kit against a fake OAuth endpoint and push API.</summary>
[TestClass]
public sealed class HmsProviderTests
{
    private const string Token = "IQAAAACy0kYkAACuzR5XoP7QjlL7aWm_HMS";

    private static async Task<(FakePushServer, PushTestProviders)> StartAsync(Func<FakePushServer.Request, FakePushServer.Response> send)
    {
        var fake = await FakePushServer.StartAsync();
        var fetches = 0;
        fake.Respond = r => r.Path == "/oauth2/v3/token"
            ? new(200, $$"""{"access_token":"hms-{{Interlocked.Increment(ref fetches)}}","expires_in":3600,"token_type":"Bearer"}""")
            : send(r);
        return (fake, new PushTestProviders(new()
        {
            ["Push:Hms:AppId"] = "10086",
            ["Push:Hms:ClientSecret"] = "hms-secret",
            ["Push:Hms:AuthEndpoint"] = $"{fake.BaseUrl}/oauth2/v3/token",
            ["Push:Hms:Endpoint"] = fake.BaseUrl,
        }));
    }

    private static FakePushServer.Response Ok(FakePushServer.Request _) => new(200, """{"code":"80000000","msg":"Success","requestId":"1"}""");

    [TestMethod]
    public async Task AClientCredentialsTokenAuthorizesAnImCategoryMessageAndIsReused()
    {
        var (fake, providers) = await StartAsync(Ok);
        await using var _ = fake;
        using var __ = providers;
        var hms = providers.Get<HmsProvider>();

        Assert.AreEqual(PushStatus.Sent, (await hms.SendAsync(PushTestProviders.Notification("hms", Token), default)).Status);
        Assert.AreEqual(PushStatus.Sent, (await hms.SendAsync(PushTestProviders.Notification("hms", Token), default)).Status);

        var auth = PushTestProviders.Form(fake.To("/oauth2/v3/token").Single().Body);
        Assert.AreEqual("client_credentials", auth["grant_type"]);
        Assert.AreEqual("10086", auth["client_id"], "the app id by default");
        Assert.AreEqual("hms-secret", auth["client_secret"]);
        var send = fake.To("/messages:send")[0];
        Assert.AreEqual("/v1/10086/messages:send", send.Path);
        Assert.AreEqual("Bearer hms-1", send.Header("authorization"));
        var message = PushTestProviders.Json(send.Body)["message"]!;
        Assert.AreEqual(Token, (string?)message["token"]![0]);
        Assert.AreEqual("IM", (string?)message["android"]!["category"], "the IM classification, not marketing");
        Assert.AreEqual("alice", (string?)message["android"]!["notification"]!["title"]);
        Assert.AreEqual(PushGrain.NoPreview, (string?)message["android"]!["notification"]!["body"]);
        Assert.AreEqual("d:alice:bob", (string?)PushTestProviders.Json((string)message["data"]!)["conv"], "data is a JSON string");
        Assert.AreEqual(1, hms.TokenFetches);
    }

    [TestMethod]
    public async Task AllTokensInvalidIsADeadToken()
    {
        var (fake, providers) = await StartAsync(_ => new(200, """{"code":"80300007","msg":"All the tokens are invalid"}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<HmsProvider>().SendAsync(PushTestProviders.Notification("hms", Token), default)).Status);
    }

    [TestMethod]
    public async Task ATokenListedAsIllegalInAPartialFailureIsDead()
    {
        var (fake, providers) = await StartAsync(_ => new(200,
            $$"""{"code":"80100000","msg":"{\"success\":0,\"failure\":1,\"illegal_tokens\":[\"{{Token}}\"]}"}"""));
        await using var _ = fake;
        using var __ = providers;

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<HmsProvider>().SendAsync(PushTestProviders.Notification("hms", Token), default)).Status);
    }

    [TestMethod]
    public async Task AnExpiredAccessTokenIsFetchedAgainAndTheSendRepeated()
    {
        var (fake, providers) = await StartAsync(r => r.Header("authorization") == "Bearer hms-1"
            ? new(200, """{"code":"80200003","msg":"OAuth token expired"}""")
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var hms = providers.Get<HmsProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(hms).DeliverAsync(hms, PushTestProviders.Notification("hms", Token), default)).Status);
        Assert.AreEqual(2, hms.TokenFetches);
    }

    [TestMethod]
    public async Task FlowControlIsRetriedAfterTheRetryAfterItGives()
    {
        var calls = 0;
        var (fake, providers) = await StartAsync(r => Interlocked.Increment(ref calls) == 1
            ? new(503, "", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : Ok(r));
        await using var _ = fake;
        using var __ = providers;
        var hms = providers.Get<HmsProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(hms).DeliverAsync(hms, PushTestProviders.Notification("hms", Token), default)).Status);
        var sends = fake.To("/messages:send");
        Assert.IsGreaterThanOrEqualTo(0.95, (sends[1].At - sends[0].At).TotalSeconds);
    }
}
