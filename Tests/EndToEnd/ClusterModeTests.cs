using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>Cluster mode for real: a silo process on PostgreSQL (clustering, grain state, message log) and two
/// stateless gateway processes that find it through the membership table.</summary>
[TestClass]
public sealed class ClusterModeTests
{
    [TestMethod]
    public async Task GatewaysShareTheClusterAndADeadGatewayLosesNothing()
    {
        var db = await PostgresServer.CreateDatabaseAsync("cluster");
        string[] postgres = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}"];
        // Tokens issued by one gateway must be accepted by the others: they share the key.
        string[] gatewayArgs = [.. postgres, $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            "--Gateway:OpenRegistration=true", "--Gateway:PasswordLogin=true"];
        string alice = Unique.User("a"), bob = Unique.User("b");
        string conv;

        await using (var silo = await SiloProcess.StartAsync(TempDirectory.Create("cluster"), [.. postgres, "--Gateway:Enabled=false"]))
        {
            await using var gw1 = await SiloProcess.StartGatewayAsync(TempDirectory.Create("cluster"), gatewayArgs);
            var gw2 = await SiloProcess.StartGatewayAsync(TempDirectory.Create("cluster"), gatewayArgs);
            foreach (var u in new[] { alice, bob })
                Assert.IsTrue((await GatewayFixture.Http.PostAsJsonAsync($"{gw1.HttpBase}/v1/auth/register", new { user = u, password = Chat.Password })).IsSuccessStatusCode);
            var token = await TokenAsync(gw1, bob);

            await using var alicePhone = await MqttTestClient.ConnectAsync(gw1.MqttPort, alice, "phone", Chat.Password);
            var bobPhone = await MqttTestClient.ConnectAsync(gw2.MqttPort, bob, "phone", token);
            Assert.AreEqual(MqttClientConnectResultCode.Success, bobPhone.ConnectResult.ResultCode, "gw2 accepts gw1's token");
            conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;

            await alicePhone.SendAsync(conv, "m1", "across gateways");
            await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "bob on gw2 gets alice's message from gw1");

            await gw2.KillAsync(); // bob's gateway dies with him connected
            for (var i = 2; i <= 6; i++)
                Assert.IsTrue((await alicePhone.SendAsync(conv, $"m{i}", $"while bob's gateway is down {i}")).IsSuccess);
            bobPhone.Abort();
            await gw2.DisposeAsync();

            await using var bobAgain = await MqttTestClient.ConnectAsync(gw1.MqttPort, bob, "phone", Chat.Password);
            await Eventually.TrueAsync(() => bobAgain.Messages(conv).Count == 5, "bob reconnects elsewhere and gets the five he missed", 20_000);
            CollectionAssert.AreEqual(new long[] { 2, 3, 4, 5, 6 }, bobAgain.Messages(conv).Select(m => (long)m["seq"]!).ToArray());

            Assert.AreEqual(System.Net.HttpStatusCode.OK, (await GatewayFixture.Http.GetAsync($"{gw1.HttpBase}/readyz")).StatusCode);
            await silo.StopAsync();
            await Eventually.TrueAsync(async () => (await GatewayFixture.Http.GetAsync($"{gw1.HttpBase}/readyz")).StatusCode == System.Net.HttpStatusCode.ServiceUnavailable,
                "a gateway without a cluster is not ready", 30_000);
        }

        // A new silo process on the same database has everything.
        await using (var silo = await SiloProcess.StartAsync(TempDirectory.Create("cluster"), [.. postgres, "--Gateway:Enabled=false"]))
        await using (var client = await OrleansClient.ConnectAsync(silo.GatewayPort))
        {
            Assert.IsTrue(await client.Client.GetGrain<IUserGrain>(alice).VerifyPasswordAsync(Chat.Password));
            var history = await client.Client.GetGrain<IConversationGrain>(conv).HistoryAsync(bob, new HistoryQuery(After: 0));
            CollectionAssert.AreEqual(new[] { "m1", "m2", "m3", "m4", "m5", "m6" }, history.Select(m => m.Id).ToArray());
        }
    }

    private static async Task<string> TokenAsync(SiloProcess gateway, string user)
    {
        var response = await GatewayFixture.Http.PostAsync($"{gateway.HttpBase}/v1/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = user, ["password"] = Chat.Password,
        }));
        return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!;
    }
}
