using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Grains.Push;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Push;

/// <summary>Push through the real server process: devices register over MQTT, go offline, another user sends, and
/// a fake FCM (and a fake webhook receiver) see what the policy lets through.</summary>
[TestClass]
public sealed class PushEndToEndTests
{
    private static SiloProcess _server = null!;
    private static FakePushServer _fcm = null!;
    private static FakePushServer _hook = null!;

    /// <summary>Token → how the fake FCM answers a send to it (default: accepted).</summary>
    private static readonly ConcurrentDictionary<string, Func<FakePushServer.Response>> Answers = new();

    [ClassInitialize]
    public static async Task StartAsync(TestContext _)
    {
        _fcm = await FakePushServer.StartAsync();
        _hook = await FakePushServer.StartAsync();
        _fcm.Respond = r =>
        {
            if (r.Path == "/token")
                return new(200, """{"access_token":"e2e-access","expires_in":3599}""");
            var token = (string?)PushTestProviders.Json(r.Body)["message"]?["token"] ?? "";
            return Answers.TryGetValue(token, out var answer) ? answer() : new(200, """{"name":"m"}""");
        };
        _hook.Respond = _ => new(204, "");
        var data = TempDirectory.Create("push-e2e");
        using var key = RSA.Create(2048);
        var account = Path.Combine(data, "fcm-service-account.json");
        await File.WriteAllTextAsync(account, new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "im-e2e",
            ["private_key_id"] = "k1",
            ["private_key"] = key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "push@im-e2e.iam.gserviceaccount.com",
            ["token_uri"] = $"{_fcm.BaseUrl}/token",
        }.ToJsonString());
        _server = await SiloProcess.StartAsync(data,
            $"--Push:Fcm:ServiceAccountFile={account}", $"--Push:Fcm:Endpoint={_fcm.BaseUrl}",
            $"--Push:Webhook:Url={_hook.BaseUrl}/hook", $"--Push:Webhook:Secret=whsec_{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            "--Push:RetryDelay=00:00:00.2", "--Auth:FailedLoginsPerMinute=1000", "--Auth:RegistrationsPerMinute=1000");
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        await _server.DisposeAsync();
        await _fcm.DisposeAsync();
        await _hook.DisposeAsync();
    }

    private static string NewToken() => $"e2e-{Guid.NewGuid():N}";

    private static IReadOnlyList<JsonNode> AlertsTo(string token) => _fcm.To("/messages:send")
        .Select(r => PushTestProviders.Json(r.Body)["message"]!).Where(m => (string?)m["token"] == token).ToList();

    private static IReadOnlyList<JsonNode> AlertsTo(string token, string conv) =>
        AlertsTo(token).Where(m => (string?)m["data"]!["conv"] == conv).ToList();

    private static Task<MqttTestClient> ConnectAsync(string user, string device) =>
        MqttTestClient.ConnectAsync(_server.MqttPort, user, device, Chat.Password);

    private static async Task RegisterAsync(MqttTestClient device, string provider, string token) =>
        await device.CallAsync("device.push", new JsonObject { ["provider"] = provider, ["token"] = token });

    /// <summary>Alice and Bob, mutual contacts (so Alice can see when Bob is offline), with a direct conversation and a group.</summary>
    private static async Task<(string Alice, string Bob, MqttTestClient AlicePhone, string Direct, string Group)> PairAsync()
    {
        var alice = await HttpAccounts.RegisterAsync(_server, "pa");
        var bob = await HttpAccounts.RegisterAsync(_server, "pb");
        var alicePhone = await ConnectAsync(alice, "phone");
        await using (var bobSetup = await ConnectAsync(bob, "setup"))
        {
            await alicePhone.CallAsync("contacts.add", new JsonObject { ["user"] = bob });
            await bobSetup.CallAsync("contacts.add", new JsonObject { ["user"] = alice });
        }
        var direct = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;
        var group = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "group", ["members"] = new JsonArray(bob) }))!["conv"]!;
        return (alice, bob, alicePhone, direct, group);
    }

    private static async Task BobIsOfflineAsync(MqttTestClient alicePhone, string bob) =>
        await Eventually.TrueAsync(async () =>
        {
            var presence = await alicePhone.CallAsync("presence.get", new JsonObject { ["users"] = new JsonArray(bob) });
            return (string?)presence!["presence"]![0]!["status"] == "offline";
        }, $"{bob} offline as alice sees it");

    [TestMethod]
    public async Task AnOfflineDeviceGetsOneAlertPerConversationWithTheSenderAndNoBody()
    {
        var (alice, bob, alicePhone, direct, group) = await PairAsync();
        await using var _ = alicePhone;
        string phoneToken = NewToken(), tabletToken = $"gw-{Guid.NewGuid():N}";
        await using (var phone = await ConnectAsync(bob, "phone"))
            await RegisterAsync(phone, "fcm", phoneToken);
        await using (var tablet = await ConnectAsync(bob, "tablet"))
            await RegisterAsync(tablet, "webhook", tabletToken);
        await BobIsOfflineAsync(alicePhone, bob);

        await alicePhone.SendAsync(direct, "m1", "first secret");
        await alicePhone.SendAsync(direct, "m2", "second secret");
        // The group's alert comes after both direct messages were counted: its badge says so.
        await alicePhone.SendAsync(group, "m3", "third");
        await Eventually.TrueAsync(() => AlertsTo(phoneToken, group).Count == 1 && AlertsTo(phoneToken, direct).Count >= 1,
            "the alerts of both conversations to bob's phone", 15_000);

        var alerts = AlertsTo(phoneToken, direct);
        Assert.HasCount(1, alerts, "two messages in one conversation: one alert");
        Assert.AreEqual(alice, (string?)alerts[0]["notification"]!["title"], "the sender's name");
        Assert.AreEqual(PushGrain.NoPreview, (string?)alerts[0]["notification"]!["body"], "no message text by default");
        Assert.AreEqual("1", (string?)alerts[0]["data"]!["seq"]);
        Assert.AreEqual("1", (string?)alerts[0]["data"]!["badge"]);
        Assert.AreEqual("3", (string?)AlertsTo(phoneToken, group)[0]["data"]!["badge"], "the badge counts the collapsed message too");
        Assert.IsFalse(_fcm.Requests.Any(r => r.Body.Contains("secret", StringComparison.Ordinal)), "no body leaves the server");
        await Eventually.TrueAsync(() => _hook.Requests.Count(r => r.Body.Contains(tabletToken, StringComparison.Ordinal)) == 2,
            "bob's tablet: one webhook alert per conversation");

        // Connecting resets the collapse state: the next offline spell alerts again.
        await using (var phone = await ConnectAsync(bob, "phone"))
            await phone.WaitForAsync("m", m => (string?)m["id"] == "m3", "the group message on reconnect");
        await BobIsOfflineAsync(alicePhone, bob);
        await alicePhone.SendAsync(direct, "m4", "again");
        await Eventually.TrueAsync(() => AlertsTo(phoneToken, direct).Count == 2, "a new alert after the reconnect");
        Assert.AreEqual("1", (string?)AlertsTo(phoneToken, direct)[1]["data"]!["badge"], "the badge starts again");
    }

    [TestMethod]
    public async Task AMutedConversationAlertsNobodyUntilUnmuted()
    {
        var (_, bob, alicePhone, direct, group) = await PairAsync();
        await using var _ = alicePhone;
        var token = NewToken();
        await using (var phone = await ConnectAsync(bob, "phone"))
        {
            await RegisterAsync(phone, "fcm", token);
            var until = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds();
            var muted = await phone.CallAsync("conv.mute", new JsonObject { ["conv"] = direct, ["until"] = until });
            Assert.AreEqual(direct, (string?)muted!["conv"]);
            Assert.AreEqual(until, (long?)muted["until"]);
            var settings = await phone.CallAsync("push.get");
            Assert.IsNotNull(settings!["mutes"]![direct], "the mute is listed");
        }
        await BobIsOfflineAsync(alicePhone, bob);

        await alicePhone.SendAsync(direct, "m1", "muted");
        await alicePhone.SendAsync(group, "m2", "not muted");
        await Eventually.TrueAsync(() => AlertsTo(token, group).Count == 1, "the unmuted group alerts");

        Assert.HasCount(0, AlertsTo(token, direct), "the muted conversation does not");
    }

    [TestMethod]
    public async Task AConnectedDeviceGetsNoAlertWhileTheUsersOfflineDeviceDoes()
    {
        var (_, bob, alicePhone, direct, _) = await PairAsync();
        await using var _ = alicePhone;
        string phoneToken = NewToken(), tabletToken = NewToken();
        await using (var tablet = await ConnectAsync(bob, "tablet"))
            await RegisterAsync(tablet, "fcm", tabletToken);
        await using var phone = await ConnectAsync(bob, "phone");
        await RegisterAsync(phone, "fcm", phoneToken);

        await alicePhone.SendAsync(direct, "m1", "hello");
        await phone.WaitForAsync("m", m => (string?)m["id"] == "m1", "the message, live");
        await Eventually.TrueAsync(() => AlertsTo(tabletToken).Count == 1, "the offline tablet's alert");

        Assert.HasCount(0, AlertsTo(phoneToken), "the connected phone got the message, not an alert");
    }

    [TestMethod]
    public async Task TheSendersOwnDevicesGetNoAlert()
    {
        var (alice, bob, alicePhone, direct, _) = await PairAsync();
        await using var _ = alicePhone;
        string aliceTablet = NewToken(), bobToken = NewToken();
        await using (var tablet = await ConnectAsync(alice, "tablet"))
            await RegisterAsync(tablet, "fcm", aliceTablet);
        await using (var phone = await ConnectAsync(bob, "phone"))
            await RegisterAsync(phone, "fcm", bobToken);
        await BobIsOfflineAsync(alicePhone, bob);

        await alicePhone.SendAsync(direct, "m1", "mine");
        await Eventually.TrueAsync(() => AlertsTo(bobToken).Count == 1, "bob's alert");

        Assert.HasCount(0, AlertsTo(aliceTablet), "alice's own offline tablet is not told of her own message");
    }

    [TestMethod]
    public async Task AHangingFailingProviderDoesNotDelayDeliveryToConnectedDevices()
    {
        var (_, bob, alicePhone, direct, _) = await PairAsync();
        await using var _ = alicePhone;
        var tabletToken = NewToken();
        Answers[tabletToken] = () => new(503, """{"error":{"code":503,"status":"UNAVAILABLE"}}""", Delay: TimeSpan.FromSeconds(5));
        await using (var tablet = await ConnectAsync(bob, "tablet"))
            await RegisterAsync(tablet, "fcm", tabletToken);
        await using var phone = await ConnectAsync(bob, "phone");

        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            await alicePhone.SendAsync(direct, $"m{i}", "hello");
            await phone.WaitForAsync("m", m => (string?)m["id"] == $"m{i}", $"message {i}, live");
            Assert.IsLessThan(2000, clock.ElapsedMilliseconds, $"message {i} took {clock.ElapsedMilliseconds} ms to reach the connected phone");
        }
        await Eventually.TrueAsync(() => AlertsTo(tabletToken).Count >= 1, "the alert reached the failing FCM");
    }

    [TestMethod]
    public async Task TheGrpcApiListsAndRemovesAUsersRegistrationsWithoutShowingTokens()
    {
        var bob = await HttpAccounts.RegisterAsync(_server, "pg");
        var token = NewToken();
        await using (var tablet = await ConnectAsync(bob, "tablet"))
            await RegisterAsync(tablet, "fcm", token);
        using var api = Grpc.Api.ConnectTo(_server);

        var listed = (await api.Users.ListPushRegistrationsAsync(new() { User = bob })).Registrations.Single();
        Assert.AreEqual("tablet", listed.Device);
        Assert.AreEqual("fcm", listed.Provider);
        Assert.IsFalse(listed.ToString().Contains(token, StringComparison.Ordinal), "the token is a device credential");

        await api.Users.RemovePushRegistrationAsync(new() { User = bob, Device = "tablet" });

        Assert.IsEmpty((await api.Users.ListPushRegistrationsAsync(new() { User = bob })).Registrations);
        await using (var phone = await ConnectAsync(bob, "phone"))
            Assert.IsEmpty((await phone.CallAsync("push.get"))!["registrations"]!.AsArray(), "gone for the user too");
        var again = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () =>
            await api.Users.RemovePushRegistrationAsync(new() { User = bob, Device = "tablet" }));
        Assert.AreEqual(global::Grpc.Core.StatusCode.NotFound, again.StatusCode);
        var nobody = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(async () =>
            await api.Users.ListPushRegistrationsAsync(new() { User = Unique.User("nobody") }));
        Assert.AreEqual(global::Grpc.Core.StatusCode.NotFound, nobody.StatusCode);
    }

    [TestMethod]
    public async Task ADeadTokenAnswerDeletesTheRegistration()
    {
        var (_, bob, alicePhone, direct, _) = await PairAsync();
        await using var _ = alicePhone;
        var tabletToken = NewToken();
        Answers[tabletToken] = () => new(404, """{"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}""");
        await using (var tablet = await ConnectAsync(bob, "tablet"))
            await RegisterAsync(tablet, "fcm", tabletToken);
        await using var phone = await ConnectAsync(bob, "phone");
        Assert.HasCount(1, (await phone.CallAsync("push.get"))!["registrations"]!.AsArray());

        await alicePhone.SendAsync(direct, "m1", "hello");

        await Eventually.TrueAsync(async () => (await phone.CallAsync("push.get"))!["registrations"]!.AsArray().Count == 0,
            "the tablet's registration removed after UNREGISTERED");
        await Eventually.TrueAsync(async () => (await GatewayFixture.Http.GetStringAsync($"{_server.HttpBase}/metrics")).Split('\n')
                .Any(l => l.StartsWith("imorleans_push_outcomes_total{", StringComparison.Ordinal) && l.Contains("provider=\"fcm\"", StringComparison.Ordinal)
                    && l.Contains("result=\"token_removed\"", StringComparison.Ordinal)),
            "the removal counted on /metrics by provider and result");
    }

    [TestMethod]
    public async Task BadRegistrationsAndMutesAreRefusedWithClearCodes()
    {
        var (_, bob, alicePhone, _, _) = await PairAsync();
        await using var _ = alicePhone;
        var stranger = await HttpAccounts.RegisterAsync(_server, "ps");
        await using var strangerPhone = await ConnectAsync(stranger, "phone");
        await using var phone = await ConnectAsync(bob, "phone");

        async Task RefusedAsync(MqttTestClient c, string method, JsonObject args, string code)
        {
            var reply = await c.RpcAsync(method, args);
            Assert.AreEqual(false, (bool?)reply["ok"], reply.ToJsonString());
            Assert.AreEqual(code, (string?)reply["error"]!["code"], reply.ToJsonString());
        }

        await RefusedAsync(phone, "device.push", new JsonObject { ["provider"] = "carrier-pigeon", ["token"] = "x" }, "bad_request");
        await RefusedAsync(phone, "device.push", new JsonObject { ["provider"] = "fcm", ["token"] = "a,b" }, "bad_request");
        await RefusedAsync(phone, "device.push", new JsonObject { ["provider"] = "webpush", ["token"] = """{"endpoint":"https://push.example/x"}""" }, "bad_request");
        await RefusedAsync(phone, "device.push", new JsonObject { ["provider"] = "apns", ["token"] = new string('a', 64) }, "push_unavailable");
        await RefusedAsync(phone, "push.settings", new JsonObject { ["dnd"] = new JsonObject { ["start"] = "25:00", ["end"] = "07:00" } }, "bad_payload");
        await RefusedAsync(phone, "push.settings", new JsonObject { ["dnd"] = new JsonObject { ["start"] = "22:00", ["end"] = "07:00", ["tz"] = "Mars/Olympus" } }, "bad_request");
        var direct = Ids.Direct(alicePhone.User, bob);
        await RefusedAsync(strangerPhone, "conv.mute", new JsonObject { ["conv"] = direct, ["until"] = "2099-01-01T00:00:00Z" }, "not_member");

        var settings = await phone.CallAsync("push.settings", new JsonObject
        {
            ["preview"] = true,
            ["dnd"] = new JsonObject { ["start"] = "22:00", ["end"] = "07:30", ["tz"] = "Europe/Berlin" },
        });
        Assert.AreEqual(true, (bool?)settings!["preview"]);
        Assert.AreEqual("07:30", (string?)settings["dnd"]!["end"]);
        await RegisterAsync(phone, "fcm", NewToken());
        await phone.CallAsync("device.push", new JsonObject()); // no token: unregister
        Assert.HasCount(0, (await phone.CallAsync("push.get"))!["registrations"]!.AsArray());
    }
}
