using System.Security.Cryptography;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>APNs against a fake over HTTP/2 and TLS, as Apple's servers speak.</summary>
[TestClass]
public sealed class ApnsProviderTests
{
    private static readonly string Token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static async Task<(FakePushServer Fake, PushTestProviders Providers, ECDsa Key)> StartAsync(TimeProvider? time = null)
    {
        var fake = await FakePushServer.StartAsync(http2Tls: true);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var providers = new PushTestProviders(new()
        {
            ["Push:Apns:Key"] = key.ExportPkcs8PrivateKeyPem(),
            ["Push:Apns:KeyId"] = "ABC123DEFG",
            ["Push:Apns:TeamId"] = "DEF123GHIJ",
            ["Push:Apns:Topic"] = "com.example.im",
            ["Push:Apns:Endpoint"] = fake.BaseUrl,
            ["Push:Apns:SandboxEndpoint"] = $"{fake.BaseUrl}/sandbox",
        }, time);
        return (fake, providers, key);
    }

    [TestMethod]
    public async Task AnAlertIsAnHttp2PostWithAnEs256ProviderTokenAndTheApnsHeaders()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;

        var result = await providers.Get<ApnsProvider>().SendAsync(PushTestProviders.Notification("apns", Token), default);

        Assert.AreEqual(PushStatus.Sent, result.Status, result.Reason);
        var r = fake.Requests.Single();
        Assert.AreEqual("HTTP/2", r.Protocol, "APNs takes HTTP/2 only");
        Assert.AreEqual("POST", r.Method);
        Assert.AreEqual($"/3/device/{Token}", r.Path);
        Assert.AreEqual("com.example.im", r.Header("apns-topic"));
        Assert.AreEqual("alert", r.Header("apns-push-type"));
        Assert.AreEqual("10", r.Header("apns-priority"));
        Assert.AreEqual(16, r.Header("apns-collapse-id").Length, "one alert per conversation, within APNs' 64 bytes");
        Assert.IsTrue(long.Parse(r.Header("apns-expiration")) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.StartsWith("bearer ", r.Header("authorization"));
        var jwt = TestJwt.Parse(r.Header("authorization")["bearer ".Length..]);
        Assert.IsTrue(jwt.VerifiedBy(key), "signed with the .p8 key, r‖s");
        Assert.AreEqual("ES256", (string?)jwt.Header["alg"]);
        Assert.AreEqual("ABC123DEFG", (string?)jwt.Header["kid"]);
        Assert.AreEqual("DEF123GHIJ", (string?)jwt.Claims["iss"]);
        Assert.IsLessThan(60, Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (long)jwt.Claims["iat"]!));
        var body = PushTestProviders.Json(r.Body);
        Assert.AreEqual("alice", (string?)body["aps"]!["alert"]!["title"]);
        Assert.AreEqual(PushGrain.NoPreview, (string?)body["aps"]!["alert"]!["body"]);
        Assert.AreEqual(3, (int)body["aps"]!["badge"]!);
        Assert.AreEqual("d:alice:bob", (string?)body["conv"]);
        Assert.AreEqual("7", (string?)body["seq"]);
    }

    [TestMethod]
    public async Task TheProviderTokenIsReusedUntilItsLifetimeThenSignedAnew()
    {
        var time = new PushTestProviders.ManualTime();
        var (fake, providers, key) = await StartAsync(time);
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var apns = providers.Get<ApnsProvider>();

        await apns.SendAsync(PushTestProviders.Notification("apns", Token), default);
        time.Now += TimeSpan.FromMinutes(39);
        await apns.SendAsync(PushTestProviders.Notification("apns", Token), default);
        Assert.AreEqual(1, apns.TokensSigned, "reused within 40 minutes (Apple answers 429 to more frequent tokens)");
        time.Now += TimeSpan.FromMinutes(2);
        await apns.SendAsync(PushTestProviders.Notification("apns", Token), default);

        Assert.AreEqual(2, apns.TokensSigned, "renewed before Apple's one-hour limit");
        var auth = fake.Requests.Select(r => r.Header("authorization")).ToList();
        Assert.AreEqual(auth[0], auth[1]);
        Assert.AreNotEqual(auth[1], auth[2]);
    }

    [TestMethod]
    public async Task SandboxTokensGoToTheSandboxEndpoint()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;

        await providers.Get<ApnsProvider>().SendAsync(PushTestProviders.Notification("apns", Token, sandbox: true), default);

        Assert.AreEqual($"/sandbox/3/device/{Token}", fake.Requests.Single().Path);
    }

    [TestMethod]
    [DataRow(410, "Unregistered")]
    [DataRow(400, "BadDeviceToken")]
    [DataRow(400, "DeviceTokenNotForTopic")]
    public async Task AnswersThatTheTokenIsDeadSaySo(int status, string reason)
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        fake.Respond = _ => new(status, $$"""{"reason":"{{reason}}"}""");

        Assert.AreEqual(PushStatus.TokenDead, (await providers.Get<ApnsProvider>().SendAsync(PushTestProviders.Notification("apns", Token), default)).Status);
    }

    [TestMethod]
    public async Task AnExpiredProviderTokenIsSignedAnewAndTheAlertSentAgain()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var calls = 0;
        fake.Respond = _ => Interlocked.Increment(ref calls) == 1 ? new(403, """{"reason":"ExpiredProviderToken"}""") : new(200, "");
        var apns = providers.Get<ApnsProvider>();

        var result = await PushTestProviders.Queue(apns).DeliverAsync(apns, PushTestProviders.Notification("apns", Token), default);

        Assert.AreEqual(PushStatus.Sent, result.Status);
        Assert.AreEqual(2, apns.TokensSigned);
    }

    [TestMethod]
    public async Task TooManyRequestsIsRetriedAfterTheRetryAfterItGives()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var calls = 0;
        fake.Respond = _ => Interlocked.Increment(ref calls) == 1
            ? new(429, """{"reason":"TooManyRequests"}""", new Dictionary<string, string> { ["Retry-After"] = "1" })
            : new(200, "");
        var apns = providers.Get<ApnsProvider>();

        Assert.AreEqual(PushStatus.Sent, (await PushTestProviders.Queue(apns).DeliverAsync(apns, PushTestProviders.Notification("apns", Token), default)).Status);
        Assert.IsGreaterThanOrEqualTo(0.95, (fake.Requests[1].At - fake.Requests[0].At).TotalSeconds);
    }
}
