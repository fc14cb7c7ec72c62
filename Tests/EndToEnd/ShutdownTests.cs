using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>SIGTERM to the embedded server while clients are connected and sending: it ends promptly, MQTT 5
/// clients are told to go elsewhere, and nothing acknowledged is lost.</summary>
[TestClass]
public sealed class ShutdownTests
{
    [TestMethod]
    public async Task SigtermUnderLoadEndsPromptlyTellsClientsToGoElsewhereAndLosesNothing()
    {
        var data = TempDirectory.Create("sigterm");
        var acked = new ConcurrentDictionary<string, long>();
        string alice = Unique.User("a"), bob = Unique.User("b"), conv;

        var server = await SiloProcess.StartAsync(data, "--Gateway:ServerReference=mqtt.example.net:1883",
            "--Auth:RegistrationsPerMinute=1000000");
        await using (server)
        {
            foreach (var user in new[] { alice, bob })
                Assert.IsTrue((await GatewayFixture.Http.PostAsJsonAsync($"{server.HttpBase}/v1/auth/register",
                    new { user, password = Chat.Password })).IsSuccessStatusCode);
            var alicePhone = await MqttTestClient.ConnectAsync(server.MqttPort, alice, "phone", Chat.Password);
            var bobPhone = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "phone", Chat.Password);
            var bobOld = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "old", Chat.Password, MqttProtocolVersion.V311);
            conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;
            // A group whose members are offline: its fan-out asked each of them where their devices are, so at
            // shutdown it has user grains to stop watching, some of them deactivated before it.
            var offline = new[] { Unique.User("c"), Unique.User("d"), Unique.User("e"), Unique.User("f") };
            foreach (var user in offline)
                Assert.IsTrue((await GatewayFixture.Http.PostAsJsonAsync($"{server.HttpBase}/v1/auth/register",
                    new { user, password = Chat.Password })).IsSuccessStatusCode);
            var group = (string)(await alicePhone.CallAsync("conv.create",
                new JsonObject { ["kind"] = "group", ["members"] = new JsonArray([.. offline.Select(u => JsonValue.Create(u))]) }))!["conv"]!;
            Assert.IsTrue((await alicePhone.SendAsync(group, "g1", "to the group")).IsSuccess);
            // A connection that never finishes its CONNECT, as garbage on the port would leave behind.
            await using var stuck = await RawConnection.OpenAsync(server, MqttTransport.Tcp);
            await stuck.SendAsync([0x10, 0x7F, 0x00]);

            using var stop = new CancellationTokenSource();
            var sender = Task.Run(async () =>
            {
                for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var r = await alicePhone.SendAsync(conv, $"s{i}", $"body {i}");
                        if (!r.IsSuccess)
                            return;
                        acked[$"s{i}"] = i;
                    }
                    catch (Exception)
                    {
                        return; // the connection ended under this send: it was never acknowledged
                    }
                }
            });
            await Eventually.TrueAsync(() => acked.Count >= 50, "50 acknowledged sends before SIGTERM", 30_000);

            var watch = Stopwatch.StartNew();
            await server.StopAsync();
            watch.Stop();
            stop.Cancel();
            await sender;

            Assert.IsLessThan(TimeSpan.FromSeconds(10), watch.Elapsed, "the server exits well within the host's shutdown timeout");
            // The whole silo stops: a conversation has no user grain to tell that it stops watching, and every attempt
            // to place one was an error in the log.
            var unwatchErrors = server.Output.Split('\n').Count(line => line.Contains("UnwatchAsync", StringComparison.Ordinal));
            Assert.AreEqual(0, unwatchErrors, "log lines about a stopping conversation calling user grains that were gone");
            foreach (var client in new[] { alicePhone, bobPhone })
            {
                await Eventually.TrueAsync(() => client.Disconnected is not null, $"{client.User} saw its connection end");
                Assert.AreEqual(MqttClientDisconnectReason.UseAnotherServer, client.Disconnected!.Reason,
                    $"MQTT 5 clients are told to use another server ({client.Disconnected.ReasonString}; {client.Disconnected.Exception})\nthe server printed:\n{server.Output[^Math.Min(4000, server.Output.Length)..]}");
            }
            await Eventually.TrueAsync(() => bobOld.Disconnected is not null, "the MQTT 3.1.1 client saw its connection closed");
        }

        await using var restarted = await SiloProcess.StartAsync(data);
        await using var reader = await MqttTestClient.ConnectAsync(restarted.MqttPort, bob, "reader", Chat.Password, subscribe: false);
        var stored = new HashSet<string>();
        long after = 0;
        while (true)
        {
            var page = (JsonArray)(await reader.CallAsync("history", new JsonObject { ["conv"] = conv, ["after"] = after, ["limit"] = 200 }))!["messages"]!;
            if (page.Count == 0)
                break;
            foreach (var m in page)
                stored.Add((string)m!["id"]!);
            after = (long)page[^1]!["seq"]!;
        }
        var lost = acked.Keys.Where(id => !stored.Contains(id)).ToList();
        Assert.IsEmpty(lost, $"acknowledged but lost: {string.Join(", ", lost.Take(10))}");
    }
}
