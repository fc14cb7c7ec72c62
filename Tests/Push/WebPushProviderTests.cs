using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ImOrleans.Grains.Push;
using ImOrleans.Grains.Push.Providers;

namespace ImOrleans.Tests.Push;

/// <summary>Web Push against a fake push service; the test plays the browser and decrypts what it gets (RFC 8291).</summary>
[TestClass]
public sealed class WebPushProviderTests
{
    /// <summary>The browser's side of a subscription: its P-256 key pair and auth secret.</summary>
    private sealed class Browser : IDisposable
    {
        public ECDiffieHellman Key { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        public byte[] Auth { get; } = RandomNumberGenerator.GetBytes(16);
        public byte[] PublicKey => Point(Key.ExportParameters(false));

        public string Subscription(string endpoint) => new JsonObject
        {
            ["endpoint"] = endpoint,
            ["keys"] = new JsonObject { ["p256dh"] = B64(PublicKey), ["auth"] = B64(Auth) },
        }.ToJsonString();

        /// <summary>RFC 8291 §3.4 / RFC 8188: salt, record size, sender key, one record sealed with AES-128-GCM.</summary>
        public string Decrypt(byte[] body)
        {
            var salt = body[..16];
            var idLength = body[20];
            var senderKey = body[21..(21 + idLength)];
            var record = body[(21 + idLength)..];
            using var sender = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = senderKey[1..33], Y = senderKey[33..65] },
            });
            var shared = Key.DeriveRawSecretAgreement(sender.PublicKey);
            var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, Auth, [.. "WebPush: info\0"u8, .. PublicKey, .. senderKey]);
            var cek = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 16, salt, "Content-Encoding: aes128gcm\0"u8.ToArray());
            var nonce = HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, 12, salt, "Content-Encoding: nonce\0"u8.ToArray());
            var plain = new byte[record.Length - 16];
            using (var aes = new AesGcm(cek, 16))
                aes.Decrypt(nonce, record[..^16], record[^16..], plain);
            var end = Array.FindLastIndex(plain, b => b != 0);
            Assert.AreEqual(2, plain[end], "the last record's delimiter");
            return Encoding.UTF8.GetString(plain, 0, end);
        }

        public void Dispose() => Key.Dispose();
    }

    private static byte[] Point(ECParameters p) => [0x04, .. p.Q.X!, .. p.Q.Y!];
    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static async Task<(FakePushServer, PushTestProviders, ECDsa Vapid)> StartAsync()
    {
        var fake = await FakePushServer.StartAsync();
        fake.Respond = _ => new(201, "");
        var vapid = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = vapid.ExportParameters(true);
        var providers = new PushTestProviders(new()
        {
            ["Push:WebPush:PublicKey"] = B64(Point(p)),
            ["Push:WebPush:PrivateKey"] = B64(p.D!),
            ["Push:WebPush:Subject"] = "mailto:ops@example.com",
            ["Push:WebPush:AllowHttp"] = "true",
        });
        return (fake, providers, vapid);
    }

    [TestMethod]
    public async Task TheAlertIsEncryptedForTheBrowserAndSignedWithVapid()
    {
        var (fake, providers, vapid) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = vapid;
        using var browser = new Browser();

        var result = await providers.Get<WebPushProvider>().SendAsync(
            PushTestProviders.Notification("webpush", browser.Subscription($"{fake.BaseUrl}/push/sub-1")), default);

        Assert.AreEqual(PushStatus.Sent, result.Status, result.Reason);
        var r = fake.Requests.Single();
        Assert.AreEqual("/push/sub-1", r.Path);
        Assert.AreEqual("aes128gcm", r.Header("content-encoding"));
        Assert.AreEqual("86400", r.Header("ttl"));
        Assert.AreEqual("high", r.Header("urgency"));
        Assert.AreEqual(16, r.Header("topic").Length, "a newer alert of the conversation replaces a pending one");
        var payload = PushTestProviders.Json(browser.Decrypt(r.RawBody));
        Assert.AreEqual("alice", (string?)payload["title"]);
        Assert.AreEqual(PushGrain.NoPreview, (string?)payload["body"]);
        Assert.AreEqual("d:alice:bob", (string?)payload["conv"]);
        Assert.AreEqual("7", (string?)payload["seq"]);
        Assert.AreEqual("3", (string?)payload["badge"]);

        var auth = r.Header("authorization");
        Assert.StartsWith("vapid ", auth);
        var fields = auth["vapid ".Length..].Split(',').Select(f => f.Trim().Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        Assert.AreEqual(B64(Point(vapid.ExportParameters(false))), fields["k"]);
        var jwt = TestJwt.Parse(fields["t"]);
        Assert.IsTrue(jwt.VerifiedBy(vapid), "signed with the VAPID key");
        // The library writes scheme and host only: the origin itself for real push services (https on port 443).
        Assert.AreEqual("http://127.0.0.1", (string?)jwt.Claims["aud"], "the push service's origin");
        Assert.AreEqual("mailto:ops@example.com", (string?)jwt.Claims["sub"]);
        Assert.IsLessThanOrEqualTo(DateTimeOffset.UtcNow.AddHours(24).ToUnixTimeSeconds(), (long)jwt.Claims["exp"]!);
    }

    [TestMethod]
    [DataRow(404)]
    [DataRow(410)]
    public async Task AGoneSubscriptionIsADeadToken(int status)
    {
        var (fake, providers, vapid) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = vapid;
        using var browser = new Browser();
        fake.Respond = _ => new(status, "");

        var result = await providers.Get<WebPushProvider>().SendAsync(PushTestProviders.Notification("webpush", browser.Subscription($"{fake.BaseUrl}/push/x")), default);

        Assert.AreEqual(PushStatus.TokenDead, result.Status);
    }

    [TestMethod]
    public async Task TooManyRequestsIsRetriedAfterTheRetryAfterItGives()
    {
        var (fake, providers, vapid) = await StartAsync();
        await using var _ = fake;
        using var __ = providers;
        using var ___ = vapid;
        using var browser = new Browser();
        var calls = 0;
        fake.Respond = _ => Interlocked.Increment(ref calls) == 1 ? new(429, "", new Dictionary<string, string> { ["Retry-After"] = "1" }) : new(201, "");
        var webPush = providers.Get<WebPushProvider>();

        var result = await PushTestProviders.Queue(webPush).DeliverAsync(webPush, PushTestProviders.Notification("webpush", browser.Subscription($"{fake.BaseUrl}/push/x")), default);

        Assert.AreEqual(PushStatus.Sent, result.Status);
        Assert.IsGreaterThanOrEqualTo(0.95, (fake.Requests[1].At - fake.Requests[0].At).TotalSeconds);
    }
}
