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
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < RegistrationsPerMinute + 1; i++)
        {
            var response = await Http.PostAsJsonAsync($"{_silo.HttpBase}/v1/auth/register", new { user = Unique.User("r"), password = Chat.Password });
            statuses.Add(response.StatusCode);
            refused = response;
        }

        CollectionAssert.AreEqual(Enumerable.Repeat(HttpStatusCode.Created, RegistrationsPerMinute).Append(HttpStatusCode.TooManyRequests).ToArray(),
            statuses, string.Join(", ", statuses));
        var body = JsonNode.Parse(await refused!.Content.ReadAsStringAsync())!;
        Assert.AreEqual(ErrorCodes.RateLimited, (string?)body["error"]);
        StringAssert.Contains((string?)body["message"], "registrations");
        Assert.IsNotNull(refused.Headers.RetryAfter, "429 says when to come back");
    }

    [TestMethod]
    public async Task FailedPasswordChecksPastThePerAddressLimitAreRefusedBeforeHashing()
    {
        // Each name is new, so the per-user limit never applies: only the per-address one can stop this.
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < FailedLoginsPerMinute + 1; i++)
        {
            var response = await Http.PostAsync($"{_silo.HttpBase}/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = Unique.User("nobody"), ["password"] = "guess guess",
            }));
            codes.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                Assert.AreEqual("slow_down", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
        }

        CollectionAssert.AreEqual(Enumerable.Repeat(HttpStatusCode.BadRequest, FailedLoginsPerMinute).Append(HttpStatusCode.TooManyRequests).ToArray(),
            codes, string.Join(", ", codes));
        await using var mqtt = await MqttTestClient.ConnectAsync(_silo.MqttPort, Unique.User("nobody"), "phone", "guess guess", subscribe: false);
        Assert.AreEqual(MqttClientConnectResultCode.ServerBusy, mqtt.ConnectResult.ResultCode, "MQTT password checks share the address's budget");
    }
}
