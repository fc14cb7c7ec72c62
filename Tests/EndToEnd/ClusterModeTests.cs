using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using IssueTokenRequest = ImOrleans.Gateway.Grpc.V1.IssueTokenRequest;
using ImOrleans.Models;
using ImOrleans.Tests.Grpc;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>Cluster mode for real: silo processes on PostgreSQL (clustering, grain state, message log) and two
/// stateless gateway processes that find them through the membership table; processes die as in a power cut.</summary>
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
            var token = await HttpAccounts.TokenAsync(gw1, bob);

            await using var alicePhone = await MqttTestClient.ConnectAsync(gw1.MqttPort, alice, "phone", Chat.Password);
            var bobPhone = await MqttTestClient.ConnectAsync(gw2.MqttPort, bob, "phone", token);
            Assert.AreEqual(MqttClientConnectResultCode.Success, bobPhone.ConnectResult.ResultCode, "gw2 accepts gw1's token");
            conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;

            await alicePhone.SendAsync(conv, "m1", "across gateways");
            await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "m1", "bob on gw2 gets alice's message from gw1");
            // His acknowledgement reached his device grain (alice is told it was delivered): m1 is behind his cursor, so
            // what he must get after the gateway dies is exactly what came after it. Killing gw2 before then would race the ack.
            await alicePhone.WaitForAsync("e", e => (string?)e["type"] == "delivered" && (long?)e["seq"] == 1, "alice sees m1 delivered");

            await gw2.KillAsync(); // bob's gateway dies with him connected
            for (var i = 2; i <= 6; i++)
                Assert.IsTrue((await alicePhone.SendAsync(conv, $"m{i}", $"while bob's gateway is down {i}")).IsSuccess);
            bobPhone.Abort();
            await gw2.DisposeAsync();

            await using var bobAgain = await MqttTestClient.ConnectAsync(gw1.MqttPort, bob, "phone", Chat.Password);
            var got = () => string.Join(",", bobAgain.Messages(conv).Select(m => (long)m["seq"]!));
            await Eventually.TrueAsync(() => bobAgain.Messages(conv).Count >= 5, "bob reconnects elsewhere and gets the five he missed", 30_000,
                () => $"bob got seqs [{got()}]; the gateway he reconnected to logged:\n{string.Join('\n', gw1.Output.Split('\n').TakeLast(40))}");
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

    /// <summary>Issue 7 item 8: three silos and two gateways under steady load. A silo's death must not stall the
    /// senders whose conversations it hosted (nor those whose calls passed through it) for Orleans' 30-second
    /// response timeout, and a gateway's death must not keep its clients from sending once they reconnect elsewhere.
    /// Sends are retried with the same id, so nothing acknowledged may be lost or stored twice.</summary>
    [TestMethod]
    public async Task SendersRecoverWithinTenSecondsWhenASiloOrAGatewayIsKilledUnderLoad()
    {
        const int senderCount = 12;
        var recoveryLimit = TimeSpan.FromSeconds(10);
        var pause = TimeSpan.FromMilliseconds(50); // about 15 messages per second per sender
        var db = await PostgresServer.CreateDatabaseAsync("failover");
        string[] postgres = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}"];
        string[] gatewayArgs = [.. postgres, $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}"];

        var silos = new List<SiloProcess>();
        var gateways = new List<SiloProcess>();
        var clients = new MqttTestClient[senderCount];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
            {
                var silo = await SiloProcess.StartAsync(TempDirectory.Create("failover"), [.. postgres, "--Gateway:Enabled=false"]);
                lock (silos)
                    silos.Add(silo);
            }));
            await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
            {
                var gateway = await SiloProcess.StartGatewayAsync(TempDirectory.Create("failover"), gatewayArgs);
                lock (gateways)
                    gateways.Add(gateway);
            }));

            // Each sender in its own direct conversation with a user who stays offline; half the senders on each
            // gateway, logged in with an access token as apps are (any gateway accepts it: they share the signing key).
            await using var orleans = await OrleansClient.ConnectAsync([.. silos.Select(s => s.GatewayPort)]);
            using var api = Api.ConnectTo(gateways[0]);
            var (senders, tokens) = await StartSendersAsync(orleans.Client, api, clients, [.. gateways]);
            using var stop = new CancellationTokenSource();
            var runs = senders.Select((s, i) => s.RunAsync(clients[i], pause, stop.Token)).ToArray();
            await Eventually.TrueAsync(() => senders.All(s => s.Acked.Count >= 5), "every sender has sent a few messages", 30_000);

            // The silo that hosts the most of these conversations dies as in a power cut.
            var management = orleans.Client.GetGrain<IManagementGrain>(0);
            var hosts = await Task.WhenAll(senders.Select(s =>
                management.GetActivationAddress(orleans.Client.GetGrain<IConversationGrain>(s.Conversation)).AsTask()));
            var victimPort = hosts.Where(h => h is not null).GroupBy(h => h!.Endpoint.Port).MaxBy(g => g.Count())!.Key;
            var onVictim = hosts.Count(h => h?.Endpoint.Port == victimPort);
            var afterSilo = await KillAndMeasureAsync(silos.Single(s => s.SiloPort == victimPort), senders, recoveryLimit, () => Task.CompletedTask);
            Console.WriteLine($"silo kill ({onVictim} of {senderCount} conversations on it, {senders.Sum(s => s.Refusals.Count)} sends refused and retried): " +
                $"longest wait for a PUBACK {Describe(afterSilo)}");

            // A gateway dies; its clients notice, reconnect to the other one and go on with their unacknowledged message.
            var moved = Enumerable.Range(0, senderCount).Where(i => i % 2 == 1).ToArray();
            var afterGateway = await KillAndMeasureAsync(gateways[1], [.. moved.Select(i => senders[i])], recoveryLimit, async () =>
            {
                await Task.WhenAll(moved.Select(i => runs[i]));
                await Task.WhenAll(moved.Select(async i =>
                {
                    clients[i].Abort();
                    clients[i] = await MqttTestClient.ConnectAsync(gateways[0].MqttPort, clients[i].User, "phone", tokens[i]);
                    runs[i] = senders[i].RunAsync(clients[i], pause, stop.Token);
                }));
            });
            Console.WriteLine($"gateway kill: longest wait for a PUBACK of its clients (reconnecting to the other) {Describe(afterGateway)}");

            await stop.CancelAsync();
            await Task.WhenAll(runs);
            Assert.IsTrue(onVictim >= 1, "the killed silo hosted conversations");
            // A silo declared dead stops itself: the short probe timeout (Orleans:ProbeTimeout) must not fell a live one.
            Assert.IsFalse(silos.Any(s => s.SiloPort != victimPort && s.HasExited), "the other silos are still up");
            Assert.IsTrue(afterSilo.All(r => r <= recoveryLimit), $"every sender sends again within {recoveryLimit.TotalSeconds} s of a silo's death: {Describe(afterSilo)}");
            Assert.IsTrue(afterGateway.All(r => r <= recoveryLimit), $"every moved client sends again within {recoveryLimit.TotalSeconds} s of its gateway's death: {Describe(afterGateway)}");

            await AssertNothingLostAsync(clients, senders);
        }
        finally
        {
            foreach (var c in clients)
                c?.Abort();
            foreach (var process in gateways.Concat(silos))
                await process.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task SigtermOnAGatewayMovesItsClientsToAnotherAndLosesNothing()
    {
        const int senderCount = 4;
        var db = await PostgresServer.CreateDatabaseAsync("drain");
        string[] postgres = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}"];
        string[] gatewayArgs = [.. postgres, $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            "--Gateway:ServerReference=mqtt.example.net"];
        await using var silo = await SiloProcess.StartAsync(TempDirectory.Create("drain"), [.. postgres, "--Gateway:Enabled=false"]);
        await using var staying = await SiloProcess.StartGatewayAsync(TempDirectory.Create("drain"), gatewayArgs);
        await using var draining = await SiloProcess.StartGatewayAsync(TempDirectory.Create("drain"), gatewayArgs);
        await using var orleans = await OrleansClient.ConnectAsync(silo.GatewayPort);
        using var api = Api.ConnectTo(staying);
        var clients = new MqttTestClient[senderCount];
        var (senders, tokens) = await StartSendersAsync(orleans.Client, api, clients, [draining]);
        using var stop = new CancellationTokenSource();
        var pause = TimeSpan.FromMilliseconds(20);
        var runs = senders.Select((s, i) => s.RunAsync(clients[i], pause, stop.Token)).ToArray();
        try
        {
            await Eventually.TrueAsync(() => senders.All(s => s.Acked.Count >= 5), "every sender has sent a few messages", 30_000);

            var watch = System.Diagnostics.Stopwatch.StartNew();
            await draining.StopAsync(); // SIGTERM, as Kubernetes sends it
            watch.Stop();
            Assert.IsLessThan(TimeSpan.FromSeconds(15), watch.Elapsed, "the gateway exits well within its grace period");
            foreach (var c in clients)
            {
                await Eventually.TrueAsync(() => c.Disconnected is not null, $"{c.User} was disconnected");
                Assert.AreEqual(MqttClientDisconnectReason.UseAnotherServer, c.Disconnected!.Reason, $"told to use another server ({c.Disconnected.ReasonString}; {c.Disconnected.Exception})\nthe gateway printed:\n{Tail(draining.Output)}");
            }

            // The apps follow the advice: reconnect to the other gateway and go on with what was not acknowledged.
            await Task.WhenAll(runs);
            var moved = SteadySender.Clock.Elapsed;
            for (var i = 0; i < senderCount; i++)
            {
                clients[i].Abort();
                clients[i] = await MqttTestClient.ConnectAsync(staying.MqttPort, clients[i].User, "phone", tokens[i]);
                runs[i] = senders[i].RunAsync(clients[i], pause, stop.Token);
            }
            await Eventually.TrueAsync(() => senders.All(s => s.AckedSince(moved)), "every sender sends again through the other gateway", 20_000);
            await stop.CancelAsync();
            await Task.WhenAll(runs);
            await AssertNothingLostAsync(clients, senders);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var c in clients)
                c?.Abort();
        }
    }

    [TestMethod]
    public async Task SigtermOnASiloUnderLoadHandsItsGrainsOverAndLosesNothing()
    {
        const int senderCount = 6;
        var db = await PostgresServer.CreateDatabaseAsync("silostop");
        string[] postgres = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}"];
        await using var first = await SiloProcess.StartAsync(TempDirectory.Create("silostop"), [.. postgres, "--Gateway:Enabled=false"]);
        await using var second = await SiloProcess.StartAsync(TempDirectory.Create("silostop"), [.. postgres, "--Gateway:Enabled=false"]);
        await using var gateway = await SiloProcess.StartGatewayAsync(TempDirectory.Create("silostop"),
            [.. postgres, $"--Auth:SigningKey={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}"]);
        await using var orleans = await OrleansClient.ConnectAsync([first.GatewayPort, second.GatewayPort]);
        using var api = Api.ConnectTo(gateway);
        var clients = new MqttTestClient[senderCount];
        var (senders, _) = await StartSendersAsync(orleans.Client, api, clients, [gateway]);
        using var stop = new CancellationTokenSource();
        var runs = senders.Select((s, i) => s.RunAsync(clients[i], TimeSpan.FromMilliseconds(50), stop.Token)).ToArray();
        try
        {
            await Eventually.TrueAsync(() => senders.All(s => s.Acked.Count >= 5), "every sender has sent a few messages", 30_000);
            var management = orleans.Client.GetGrain<IManagementGrain>(0);
            var hosts = await Task.WhenAll(senders.Select(s =>
                management.GetActivationAddress(orleans.Client.GetGrain<IConversationGrain>(s.Conversation)).AsTask()));
            var leaving = hosts.Count(h => h?.Endpoint.Port == first.SiloPort) >= hosts.Count(h => h?.Endpoint.Port == second.SiloPort) ? first : second;

            var exit = System.Diagnostics.Stopwatch.StartNew();
            var waits = await EndAndMeasureAsync(async () =>
            {
                await leaving.StopAsync(); // SIGTERM: the silo leaves the cluster and its grains move
                exit.Stop();
            }, senders, TimeSpan.FromSeconds(10), () => Task.CompletedTask);
            Console.WriteLine($"silo SIGTERM: exited after {exit.Elapsed.TotalSeconds:0.0} s; longest wait for a PUBACK {Describe(waits)}");

            Assert.IsLessThan(TimeSpan.FromSeconds(30), exit.Elapsed, "the silo exits within its grace period");
            Assert.IsTrue(waits.All(w => w <= TimeSpan.FromSeconds(10)), $"senders go on within 10 s: {Describe(waits)}");
            await stop.CancelAsync();
            await Task.WhenAll(runs);
            await AssertNothingLostAsync(clients, senders);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var c in clients)
                c?.Abort();
        }
    }

    /// <summary>One sender per slot of <paramref name="clients"/>, each in its own direct conversation with one peer who
    /// stays offline, logged in with an access token as apps are (any gateway accepts it: they share the signing key),
    /// connected to the gateways in turn. Returns the senders and their tokens.</summary>
    private static async Task<(SteadySender[] Senders, string[] Tokens)> StartSendersAsync(IGrainFactory grains, Api api,
        MqttTestClient[] clients, SiloProcess[] gateways)
    {
        var peer = await Chat.NewUserAsync(grains, "p");
        var tokens = new string[clients.Length];
        var senders = await Task.WhenAll(Enumerable.Range(0, clients.Length).Select(async i =>
        {
            var me = await Chat.NewUserAsync(grains, "s");
            var conv = await Chat.NewDirectAsync(grains, me, peer);
            tokens[i] = (await api.Users.IssueTokenAsync(new IssueTokenRequest { User = me })).AccessToken;
            clients[i] = await MqttTestClient.ConnectAsync(gateways[i % gateways.Length].MqttPort, me, "phone", tokens[i]);
            return new SteadySender(conv, "m");
        }));
        return (senders, tokens);
    }

    /// <summary>Nothing acknowledged is lost, nothing is stored twice, and the order has no gaps.</summary>
    private static async Task AssertNothingLostAsync(MqttTestClient[] clients, SteadySender[] senders)
    {
        for (var i = 0; i < senders.Length; i++)
        {
            var history = await HistoryAsync(clients[i], senders[i].Conversation);
            CollectionAssert.AreEqual(Enumerable.Range(1, history.Count).Select(n => (long)n).ToArray(), history.Select(m => m.Seq).ToArray(),
                $"{senders[i].Conversation}: seqs without gaps");
            Assert.AreEqual(history.Count, history.Select(m => m.Id).Distinct().Count(), $"{senders[i].Conversation}: no message stored twice");
            var stored = history.ToDictionary(m => m.Id, m => m.Seq);
            foreach (var acked in senders[i].Acked)
                Assert.AreEqual(acked.Seq, stored.GetValueOrDefault(acked.Id), $"{senders[i].Conversation}: acknowledged {acked.Id} is stored under the seq its PUBACK named");
        }
    }

    /// <summary>SIGKILLs <paramref name="process"/>, runs <paramref name="afterKill"/> (what clients do about it), waits
    /// until every sender has had a send acknowledged that it published after the process was gone, and returns each
    /// sender's longest wait for a PUBACK around the kill. Waits well past the limit, so that a failure reports the
    /// real figures.</summary>
    private static Task<TimeSpan[]> KillAndMeasureAsync(SiloProcess process, IReadOnlyList<SteadySender> senders, TimeSpan limit,
        Func<Task> afterKill) => EndAndMeasureAsync(process.KillAsync, senders, limit, afterKill);

    /// <summary>As <see cref="KillAndMeasureAsync"/>, ending the process with <paramref name="endProcess"/> (a kill or a SIGTERM).</summary>
    private static async Task<TimeSpan[]> EndAndMeasureAsync(Func<Task> endProcess, IReadOnlyList<SteadySender> senders, TimeSpan limit,
        Func<Task> afterKill)
    {
        var killStarted = SteadySender.Clock.Elapsed;
        await endProcess();
        var gone = SteadySender.Clock.Elapsed;
        await afterKill();
        while (SteadySender.Clock.Elapsed - killStarted < limit * 4 && !senders.All(s => s.AckedSince(gone)))
            await Task.Delay(100);
        var end = SteadySender.Clock.Elapsed;
        return [.. senders.Select(s => s.LongestSilence(killStarted, end))];
    }

    private static string Tail(string output) => output[^Math.Min(4000, output.Length)..];

    private static string Describe(TimeSpan[] recoveries) =>
        $"max {recoveries.Max().TotalSeconds:0.0} s, each: {string.Join(" ", recoveries.Select(r => r.TotalSeconds.ToString("0.0")))}";

    /// <summary>The whole history of a conversation over MQTT RPC, page by page.</summary>
    private static async Task<List<(long Seq, string Id)>> HistoryAsync(MqttTestClient client, string conv)
    {
        var all = new List<(long Seq, string Id)>();
        while (true)
        {
            var page = (JsonArray)(await client.CallAsync("history", new JsonObject { ["conv"] = conv, ["after"] = all.Count == 0 ? 0 : all[^1].Seq, ["limit"] = 200 }))!["messages"]!;
            if (page.Count == 0)
                return all;
            all.AddRange(page.Select(m => ((long)m!["seq"]!, (string)m["id"]!)));
        }
    }
}
