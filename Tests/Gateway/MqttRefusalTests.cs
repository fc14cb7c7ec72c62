using System.Text;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace ImOrleans.Tests.Gateway;

/// <summary>Bad input over MQTT gets a clear refusal and never breaks the connection or the server.</summary>
[TestClass]
public sealed class MqttRefusalTests
{
    private static async Task<MqttTestClient> TryConnectAsync(string user, string device, string password,
        MqttProtocolVersion version = MqttProtocolVersion.V500, string? clientId = null) =>
        await MqttTestClient.ConnectAsync((await GatewayFixture.SiloAsync()).MqttPort, user, device, password, version, clientId: clientId);

    [TestMethod]
    public async Task WrongPasswordIsRefusedWithBadCredentials()
    {
        var alice = await GatewayFixture.RegisterAsync();
        await using var v5 = await TryConnectAsync(alice, "phone", "not her password");
        await using var v3 = await TryConnectAsync(alice, "phone", "not her password", MqttProtocolVersion.V311);

        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, v5.ConnectResult.ResultCode);
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, v3.ConnectResult.ResultCode);
    }

    [TestMethod]
    public async Task UnknownUserIsRefused()
    {
        await using var c = await TryConnectAsync(Unique.User("ghost"), "phone", Chat.Password);
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, c.ConnectResult.ResultCode);
    }

    [TestMethod]
    [DataRow("no-slash")]
    [DataRow("UPPER/phone")]
    [DataRow("user/bad device")]
    public async Task BadClientIdIsRefused(string clientId)
    {
        var alice = await GatewayFixture.RegisterAsync();
        await using var c = await TryConnectAsync(alice, "phone", Chat.Password, clientId: clientId);
        Assert.AreEqual(MqttClientConnectResultCode.ClientIdentifierNotValid, c.ConnectResult.ResultCode);
    }

    [TestMethod]
    public async Task UsernameOfAnotherUserIsRefused()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var c = await TryConnectAsync(alice, "phone", Chat.Password, clientId: $"{bob}/phone");
        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, c.ConnectResult.ResultCode);
    }

    [TestMethod]
    public async Task DevicesPastTheLimitAreRefusedWithQuotaExceeded()
    {
        var alice = await GatewayFixture.RegisterAsync();
        for (var i = 0; i < GatewayFixture.MaxDevicesPerUser; i++)
            await using (await GatewayFixture.ConnectAsync(alice, $"d{i}")) { }

        await using var extra = await TryConnectAsync(alice, "one-too-many", Chat.Password);

        Assert.AreEqual(MqttClientConnectResultCode.QuotaExceeded, extra.ConnectResult.ResultCode);
        await using var old = await TryConnectAsync(alice, "one-too-many", Chat.Password, MqttProtocolVersion.V311);
        Assert.AreEqual(MqttClientConnectResultCode.NotAuthorized, old.ConnectResult.ResultCode, "MQTT 3.1.1 has no quota code");

        // Removing a device frees its slot.
        await using (var d0 = await GatewayFixture.ConnectAsync(alice, "d0"))
            await d0.CallAsync("device.remove", new() { ["device"] = "d1" });
        await using var replacement = await TryConnectAsync(alice, "one-too-many", Chat.Password);
        Assert.AreEqual(MqttClientConnectResultCode.Success, replacement.ConnectResult.ResultCode);
        var devices = await replacement.CallAsync("device.list");
        CollectionAssert.AreEquivalent(new[] { "d0", "d2", "one-too-many" }, devices!["devices"]!.AsArray().Select(d => (string)d!).ToArray());
    }

    [TestMethod]
    public async Task SubscriptionOutsideOwnTreeIsRefusedInTheSuback()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");

        var others = await phone.SubscribeAsync($"u/{bob}/#");
        var everything = await phone.SubscribeAsync("#");
        var own = await phone.SubscribeAsync($"u/{alice}/m");

        Assert.AreEqual(MqttClientSubscribeResultCode.NotAuthorized, others.Items.Single().ResultCode);
        Assert.AreEqual(MqttClientSubscribeResultCode.NotAuthorized, everything.Items.Single().ResultCode);
        Assert.AreEqual(MqttClientSubscribeResultCode.GrantedQoS1, own.Items.Single().ResultCode);
        Assert.IsTrue(phone.IsConnected);
    }

    [TestMethod]
    public async Task NonMemberSendIsRefusedWithReasonCodeAndErrorEvent()
    {
        var (alice, bob, eve) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var alicePhone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var evePhone = await GatewayFixture.ConnectAsync(eve, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);

        var puback = await evePhone.SendAsync(conv, "sneaky-1", "let me in");

        Assert.AreEqual(MqttClientPublishReasonCode.NotAuthorized, puback.ReasonCode);
        var error = await evePhone.WaitForAsync("e", e => (string?)e["type"] == "error", "error event");
        Assert.AreEqual("sneaky-1", (string?)error["ref"]);
        Assert.AreEqual(ErrorCodes.NotMember, (string?)error["code"]);
        Assert.HasCount(0, (await alicePhone.CallAsync("history", new() { ["conv"] = conv }))!["messages"]!.AsArray());
    }

    [TestMethod]
    [DataRow("{not json")]
    [DataRow("[1,2,3]")]
    [DataRow("{\"id\":\"x1\"}")]
    [DataRow("{\"id\":5,\"body\":\"numeric id\"}")]
    [DataRow("{\"id\":\"x1\",\"id\":\"x2\",\"body\":\"a field twice\"}")]
    [DataRow("{\"id\":\"x1\",\"body\":\"an unknown field twice\",\"extra\":1,\"extra\":2}")]
    [DataRow("{\"id\":\"x1\",\"body\":\"something after the object\"}x")]
    [DataRow("{\"id\":\"x1\",\"body\":\"half a character: \\ud800\"}")]
    [DataRow("{\"id\":\"\\udc00\",\"body\":\"an id that is half a character\"}")]
    [DataRow("{\"id\":\"x1\",\"body\":\"a mention\",\"mentions\":[\"\\ud83d\"]}")]
    [DataRow("{\"id\":\"x1\",\"kind\":\"edit\",\"target\":\"\\ud800\",\"body\":\"edit\"}")]
    [DataRow("{\"\\ud800\":1,\"id\":\"x1\",\"body\":\"a field named with half a character\"}")]
    [DataRow("{\"id\":\"x1\",\"body\":\"an ignored field\",\"extra\":\"\\ud800\"}")]
    [DataRow("{\"id\":\"x1\",\"body\":\"nested\",\"extra\":{\"deep\":[\"\\udfff\"]}}")]
    public async Task MalformedPayloadIsRefusedAsBadPayload(string payload)
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(phone, "direct", bob);

        var puback = await phone.PublishRawAsync($"c/{conv}/m", payload);

        Assert.AreEqual(MqttClientPublishReasonCode.PayloadFormatInvalid, puback.ReasonCode);
        await phone.WaitForAsync("e", e => (string?)e["code"] == ErrorCodes.BadPayload, "bad_payload error event");
        Assert.IsTrue((await phone.SendAsync(conv, "ok-1", "the connection still works")).IsSuccess);
    }

    /// <summary>Bytes that are not UTF-8 inside a string: a C# string cannot carry them, so they are given as bytes.</summary>
    [TestMethod]
    [DataRow(new byte[] { 0xFF }, "body")]
    [DataRow(new byte[] { 0xC3, 0x28 }, "extra")]
    [DataRow(new byte[] { 0x80 }, "id")]
    [DataRow(new byte[] { 0xED, 0xA0, 0x80 }, "body")] // a surrogate encoded as UTF-8, which UTF-8 forbids
    public async Task PayloadThatIsNotUtf8IsRefusedAsBadPayload(byte[] garbage, string field)
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(phone, "direct", bob);
        var (before, after) = field switch
        {
            "id" => ("{\"id\":\"", "\",\"body\":\"text\"}"),
            "body" => ("{\"id\":\"u1\",\"body\":\"", "\"}"),
            _ => ("{\"id\":\"u1\",\"body\":\"text\",\"extra\":\"", "\"}"),
        };
        byte[] payload = [.. Encoding.UTF8.GetBytes(before), .. garbage, .. Encoding.UTF8.GetBytes(after)];

        var puback = await phone.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"c/{conv}/m").WithPayload(payload)
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.AreEqual(MqttClientPublishReasonCode.PayloadFormatInvalid, puback.ReasonCode, Encoding.Latin1.GetString(payload));
        await phone.WaitForAsync("e", e => (string?)e["code"] == ErrorCodes.BadPayload, "bad_payload error event");
        Assert.IsTrue((await phone.SendAsync(conv, "ok-1", "the connection still works")).IsSuccess);
    }

    [TestMethod]
    public async Task OversizePayloadIsRefusedWithQuotaExceeded()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(phone, "direct", bob);

        var puback = await phone.SendAsync(conv, "big-1", new string('x', GatewayFixture.MaxPayloadBytes));

        Assert.AreEqual(MqttClientPublishReasonCode.QuotaExceeded, puback.ReasonCode);
        var error = await phone.WaitForAsync("e", e => (string?)e["type"] == "error", "error event");
        Assert.AreEqual(ErrorCodes.LimitExceeded, (string?)error["code"]);
    }

    [TestMethod]
    public async Task UnknownTopicAndMethodAreRefused()
    {
        var alice = await GatewayFixture.RegisterAsync();
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");

        var puback = await phone.PublishAsync("somewhere/else", new { });
        var reply = await phone.RpcAsync("no.such.method");

        Assert.AreEqual(MqttClientPublishReasonCode.TopicNameInvalid, puback.ReasonCode);
        Assert.IsFalse((bool)reply["ok"]!);
        Assert.AreEqual("unknown_method", (string?)reply["error"]!["code"]);
        await phone.WaitForAsync("e", e => (string?)e["code"] == "unknown_method" && (string?)e["ref"] == (string?)reply["rid"], "an error event names the rid");
    }

    [TestMethod]
    public async Task FloodingDeviceIsRateLimitedAndOthersAreNot()
    {
        var (alice, bob) = (await GatewayFixture.RegisterAsync(), await GatewayFixture.RegisterAsync());
        await using var phone = await GatewayFixture.ConnectAsync(alice, "phone");
        await using var other = await GatewayFixture.ConnectAsync(bob, "phone");
        var conv = await GatewayFixture.CreateConversationAsync(phone, "direct", bob);

        var results = await Task.WhenAll(Enumerable.Range(0, GatewayFixture.RateBurst * 2).Select(i => phone.SendAsync(conv, $"f{i}", "spam")));

        Assert.IsTrue(results.Any(r => r.ReasonCode == MqttClientPublishReasonCode.QuotaExceeded), "some sends are refused");
        await phone.WaitForAsync("e", e => (string?)e["code"] == ErrorCodes.RateLimited, "rate_limited error event");
        Assert.IsTrue((await other.SendAsync(conv, "b1", "I am not limited")).IsSuccess);

        // The bucket refills with time: a second later the flooder may send again, at the configured rate.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var later = await Task.WhenAll(Enumerable.Range(0, GatewayFixture.RatePerSecond / 2).Select(i => phone.SendAsync(conv, $"l{i}", "calmer now")));
        Assert.IsTrue(later.All(r => r.IsSuccess), string.Join(", ", later.Select(r => r.ReasonCode)));
    }

    [TestMethod]
    public async Task PasswordThatLooksLikeATokenStillLogsIn()
    {
        var silo = await GatewayFixture.SiloAsync();
        var user = Unique.User("dots");
        var response = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(GatewayFixture.Http,
            $"{silo.HttpBase}/v1/auth/register", new { user, password = "my.dotted.password" });
        Assert.IsTrue(response.IsSuccessStatusCode);

        await using var c = await TryConnectAsync(user, "phone", "my.dotted.password");

        Assert.AreEqual(MqttClientConnectResultCode.Success, c.ConnectResult.ResultCode);
    }

    [TestMethod]
    public async Task PasswordGuessingIsThrottledPerUser()
    {
        var alice = await GatewayFixture.RegisterAsync();
        var codes = new List<MqttClientConnectResultCode>();
        // Ten attempts are allowed at once, then one per 6 s: well within twenty quick attempts some are turned away.
        for (var i = 0; i < 20 && !codes.Contains(MqttClientConnectResultCode.ServerBusy); i++)
        {
            await using var c = await TryConnectAsync(alice, "phone", $"guess number {i}");
            codes.Add(c.ConnectResult.ResultCode);
        }

        Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, codes[0]);
        Assert.Contains(MqttClientConnectResultCode.ServerBusy, codes, "past ten attempts the hash is not even computed");
        Assert.IsGreaterThanOrEqualTo(11, codes.Count, "the first ten attempts are all checked");
        var other = await GatewayFixture.RegisterAsync();
        await using var unaffected = await TryConnectAsync(other, "phone", Chat.Password);
        Assert.AreEqual(MqttClientConnectResultCode.Success, unaffected.ConnectResult.ResultCode, "other users are not throttled");
    }
}
