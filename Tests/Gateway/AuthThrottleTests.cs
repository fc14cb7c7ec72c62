using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.Gateway;

/// <summary>What one source address may make the gateway hash: registrations and failed password checks are
/// limited per address. A server of its own with small limits, since the shared one serves every test from loopback.</summary>
[TestClass]
public sealed class AuthThrottleTests
{
    private const int RegistrationsPerMinute = 3;
    private const int FailedLoginsPerMinute = 5;

    private static SiloProcess _silo = null!;
    private static HttpClient Http => GatewayFixture.Http;

    [ClassInitialize]
    public static async Task Init(TestContext _) =>
        _silo = await SiloProcess.StartAsync(TempDirectory.Create("throttle"),
            $"--Auth:RegistrationsPerMinute={RegistrationsPerMinute}", $"--Auth:FailedLoginsPerMinute={FailedLoginsPerMinute}");

    [ClassCleanup]
    public static async Task Cleanup() => await _silo.DisposeAsync();

    [TestMethod]
    public async Task RegistrationsPastThePerAddressLimitGet429WithAReason()
    {
        var clock = Stopwatch.StartNew();
        var created = 0;
        HttpResponseMessage? refused = null;
        while (refused is null && created < 4 * RegistrationsPerMinute)
        {
            var response = await Http.PostAsJsonAsync($"{_silo.HttpBase}/v1/auth/register", new { user = Unique.User("r"), password = Chat.Password });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused = response;
            else
                Assert.AreEqual(HttpStatusCode.Created, response.StatusCode, await response.Content.ReadAsStringAsync());
            created += refused is null ? 1 : 0;
        }

        Assert.IsNotNull(refused, $"{created} registrations from one address, none refused");
        AssertWithinBudget(RegistrationsPerMinute, created, clock.Elapsed);
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.AreEqual(ErrorCodes.RateLimited, (string?)body["error"]);
        StringAssert.Contains((string?)body["message"], "registrations");
        Assert.IsNotNull(refused.Headers.RetryAfter, "429 says when to come back");
    }

    [TestMethod]
    public async Task FailedPasswordChecksPastThePerAddressLimitAreRefusedBeforeHashing()
    {
        // Each name is new, so the per-user limit never applies: only the per-address one can stop this.
        var clock = Stopwatch.StartNew();
        var failed = 0;
        var throttled = false;
        while (!throttled && failed < 4 * FailedLoginsPerMinute)
        {
            var response = await Http.PostAsync($"{_silo.HttpBase}/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = Unique.User("nobody"), ["password"] = "guess guess",
            }));
            var error = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"];
            throttled = response.StatusCode == HttpStatusCode.TooManyRequests && error == "slow_down";
            if (!throttled)
                Assert.AreEqual("invalid_grant", error);
            failed += throttled ? 0 : 1;
        }

        Assert.IsTrue(throttled, $"{failed} failed password checks from one address, none refused");
        AssertWithinBudget(FailedLoginsPerMinute, failed, clock.Elapsed);
        // MQTT draws on the same budget. A failure that refilled meanwhile is used up by one more try.
        var codes = new List<MqttClientConnectResultCode>();
        for (var i = 0; i < 3 && !codes.Contains(MqttClientConnectResultCode.ServerBusy); i++)
        {
            await using var mqtt = await MqttTestClient.ConnectAsync(_silo.MqttPort, Unique.User("nobody"), "phone", "guess guess", subscribe: false);
            codes.Add(mqtt.ConnectResult.ResultCode);
        }
        Assert.Contains(MqttClientConnectResultCode.ServerBusy, codes, "MQTT password checks share the address's budget");
    }

    /// <summary>The limit let through at least its budget, and no more than the budget plus what refilled meanwhile
    /// (one every minute / budget).</summary>
    private static void AssertWithinBudget(int perMinute, int allowed, TimeSpan elapsed)
    {
        var refilled = (int)Math.Ceiling(elapsed / (TimeSpan.FromMinutes(1) / perMinute));
        Assert.IsGreaterThanOrEqualTo(perMinute, allowed, "the budget itself is allowed");
        Assert.IsLessThanOrEqualTo(perMinute + refilled, allowed, $"at most the budget plus {refilled} refilled in {elapsed}");
    }
}
