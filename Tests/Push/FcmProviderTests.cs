using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;
using ImOrleans.Models;

namespace ImOrleans.Tests.Push;

/// <summary>FCM HTTP v1 against a fake Google token endpoint and FCM API.</summary>
[TestClass]
public sealed class FcmProviderTests
{
    private const string Token = "fcm-device-token:APA91b_x";

    private static async Task<(FakePushServer Fake, PushTestProviders Providers, RSA Key)> StartAsync()
    {
        var fake = await FakePushServer.StartAsync();
        var key = RSA.Create(2048);
        var account = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "im-test",
            ["private_key_id"] = "key-1",
            ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "push@im-test.iam.gserviceaccount.com",
            ["token_uri"] = $"{fake.BaseUrl}/token",
        };
        fake.Respond = r => r.Path == "/token"
            ? new(200, """{"access_token":"ya29.test-access","expires_in":3599,"token_type":"Bearer"}""")
            : new(200, """{"name":"projects/im-test/messages/1"}""");
        var providers = new PushTestProviders(new()
        {
            ["Push:Fcm:ServiceAccountJson"] = account.ToJsonString(),
            ["Push:Fcm:Endpoint"] = fake.BaseUrl,
        });
        return (fake, providers, key);
    }

    [TestMethod]
    public async Task TheServiceAccountJwtIsExchangedForAnAccessTokenThatIsReused()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var fcm = providers.Get<FcmProvider>();

        Assert.AreEqual(PushStatus.Sent, (await fcm.SendAsync(PushTestProviders.Notification("fcm", Token), default)).Status);
        Assert.AreEqual(PushStatus.Sent, (await fcm.SendAsync(PushTestProviders.Notification("fcm", Token), default)).Status);

        var tokenRequests = fake.To("/token");
        Assert.HasCount(1, tokenRequests, "one access token for both sends");
        var form = PushTestProviders.Form(tokenRequests[0].Body);
        Assert.AreEqual("urn:ietf:params:oauth:grant-type:jwt-bearer", form["grant_type"]);
        var jwt = TestJwt.Parse(form["assertion"]);
        Assert.IsTrue(jwt.VerifiedBy(key), "signed with the service account's key");
        Assert.AreEqual("RS256", (string?)jwt.Header["alg"]);
        Assert.AreEqual("key-1", (string?)jwt.Header["kid"]);
        Assert.AreEqual("push@im-test.iam.gserviceaccount.com", (string?)jwt.Claims["iss"]);
        Assert.AreEqual("https://www.googleapis.com/auth/firebase.messaging", (string?)jwt.Claims["scope"]);
        Assert.AreEqual($"{fake.BaseUrl}/token", (string?)jwt.Claims["aud"]);
        Assert.AreEqual(3600, (long)jwt.Claims["exp"]! - (long)jwt.Claims["iat"]!);
        Assert.AreEqual(1, fcm.TokenFetches);
    }

    [TestMethod]
    public async Task TheSendCarriesTheTokenTheSenderAndTheDataAnAppNeedsButNoBody()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;

        await providers.Get<FcmProvider>().SendAsync(PushTestProviders.Notification("fcm", Token), default);

        var send = fake.To("/messages:send").Single();
        Assert.AreEqual("POST", send.Method);
        Assert.AreEqual("/v1/projects/im-test/messages:send", send.Path);
        Assert.AreEqual("Bearer ya29.test-access", send.Header("authorization"));
        var message = PushTestProviders.Json(send.Body)["message"]!;
        Assert.AreEqual(Token, (string?)message["token"]);
        Assert.AreEqual("alice", (string?)message["notification"]!["title"]);
        Assert.AreEqual(PushGrain.NoPreview, (string?)message["notification"]!["body"]);
        Assert.AreEqual("d:alice:bob", (string?)message["data"]!["conv"]);
        Assert.AreEqual("7", (string?)message["data"]!["seq"], "data values are strings");
        Assert.AreEqual("alice", (string?)message["data"]!["from"]);
        Assert.AreEqual("3", (string?)message["data"]!["badge"]);
        Assert.AreEqual("high", (string?)message["android"]!["priority"]);
        Assert.AreEqual((string?)message["android"]!["collapse_key"], (string?)message["android"]!["notification"]!["tag"], "one alert per conversation");
    }

    [TestMethod]
    [DataRow(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")]
    [DataRow(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")]
    [DataRow(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token")]
    public async Task AnswersThatTheTokenIsDeadSaySo(int status, string grpcStatus, string fcmCode, string text)
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        fake.Respond = r => r.Path == "/token"
            ? new(200, """{"access_token":"ya29.a","expires_in":3599}""")
            : new(status, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = status, ["message"] = text, ["status"] = grpcStatus,
                    ["details"] = new JsonArray(new JsonObject { ["@type"] = "type.googleapis.com/google.firebase.fcm.v1.FcmError", ["errorCode"] = fcmCode }),
                },
            }.ToJsonString());

        var result = await providers.Get<FcmProvider>().SendAsync(PushTestProviders.Notification("fcm", Token), default);

        Assert.AreEqual(PushStatus.TokenDead, result.Status, result.Reason);
    }

    [TestMethod]
    public async Task AnInvalidArgumentAboutThePayloadIsNotADeadToken()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        fake.Respond = r => r.Path == "/token" ? new(200, """{"access_token":"a","expires_in":3599}""")
            : new(400, """{"error":{"code":400,"message":"Invalid value at 'message.data'","status":"INVALID_ARGUMENT"}}""");

        Assert.AreEqual(PushStatus.Failed, (await providers.Get<FcmProvider>().SendAsync(PushTestProviders.Notification("fcm", Token), default)).Status);
    }

    [TestMethod]
    public async Task UnavailableIsRetriedAfterTheRetryAfterItGives()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var sends = 0;
        fake.Respond = r => r.Path == "/token" ? new(200, """{"access_token":"a","expires_in":3599}""")
            : Interlocked.Increment(ref sends) == 1
                ? new(503, """{"error":{"code":503,"status":"UNAVAILABLE"}}""", new Dictionary<string, string> { ["Retry-After"] = "1" })
                : new(200, """{"name":"m"}""");
        var fcm = providers.Get<FcmProvider>();

        var result = await PushTestProviders.Queue(fcm).DeliverAsync(fcm, PushTestProviders.Notification("fcm", Token), default);

        Assert.AreEqual(PushStatus.Sent, result.Status);
        var attempts = fake.To("/messages:send");
        Assert.HasCount(2, attempts);
        Assert.IsGreaterThanOrEqualTo(0.95, (attempts[1].At - attempts[0].At).TotalSeconds, "waited the second the service asked for");
    }

    [TestMethod]
    public async Task ARefusedAccessTokenIsFetchedAgain()
    {
        var (fake, providers, key) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = key;
        var fetches = 0;
        fake.Respond = r => r.Path == "/token"
            ? new(200, $$"""{"access_token":"token-{{Interlocked.Increment(ref fetches)}}","expires_in":3599}""")
            : r.Header("authorization") == "Bearer token-1" ? new(401, """{"error":{"code":401,"status":"UNAUTHENTICATED"}}""") : new(200, "{}");
        var fcm = providers.Get<FcmProvider>();

        var result = await PushTestProviders.Queue(fcm).DeliverAsync(fcm, PushTestProviders.Notification("fcm", Token), default);

        Assert.AreEqual(PushStatus.Sent, result.Status);
        Assert.AreEqual(2, fcm.TokenFetches);
        Assert.AreEqual("Bearer token-2", fake.To("/messages:send").Last().Header("authorization"));
    }
}
