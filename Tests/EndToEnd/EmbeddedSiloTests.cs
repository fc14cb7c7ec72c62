using System.Collections.Concurrent;
using ImOrleans.Grains.Conversations;
using ImOrleans.Grains.Devices;
using ImOrleans.Models;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>The real embedded silo process: what survives a restart and what survives SIGKILL.</summary>
[TestClass]
public sealed class EmbeddedSiloTests
{
    [TestMethod]
    public async Task EverySendThatReturnedSurvivesSigkill()
    {
        var data = TempDirectory.Create("e2e");
        var acked = new ConcurrentDictionary<string, long>();
        string a = Unique.User("a"), b = Unique.User("b"), conv = Ids.Direct(a, b);

        await using (var silo = await SiloProcess.StartAsync(data))
        await using (var client = await OrleansClient.ConnectAsync(silo.GatewayPort))
        {
            var grains = client.Client;
            await grains.GetGrain<IUserGrain>(a).CreateAsync(Chat.Password);
            await grains.GetGrain<IUserGrain>(b).CreateAsync(Chat.Password);
            await grains.GetGrain<IConversationGrain>(conv).CreateDirectAsync(a, a, b);

            using var stop = new CancellationTokenSource();
            // Four writers, each sending one message after another, until the process dies under them.
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 5000 && !stop.IsCancellationRequested; i++)
                {
                    var id = $"w{w}-{i}";
                    try
                    {
                        var r = await grains.GetGrain<IConversationGrain>(conv).SendAsync(w % 2 == 0 ? a : b, $"dev{w}", id, $"body {id}");
                        acked[id] = r.Message.Seq;
                    }
                    catch (Exception)
                    {
                        return; // the silo is gone; this send was never confirmed
                    }
                }
            })).ToList();

            await Eventually.TrueAsync(() => acked.Count >= 300, "300 confirmed sends before the kill", 60_000);
            await silo.KillAsync();
            stop.Cancel();
            await Task.WhenAll(writers);
        }

        await using (var silo = await SiloProcess.StartAsync(data))
        await using (var client = await OrleansClient.ConnectAsync(silo.GatewayPort))
        {
            var history = new List<MessageRecord>();
            while (true)
            {
                var page = await client.Client.GetGrain<IConversationGrain>(conv)
                    .HistoryAsync(a, new HistoryQuery(After: history.Count == 0 ? 0 : history[^1].Seq, Limit: 200));
                if (page.Count == 0)
                    break;
                history.AddRange(page);
            }

            var stored = history.ToDictionary(m => m.Id, m => m.Seq);
            foreach (var (id, seq) in acked)
                Assert.IsTrue(stored.TryGetValue(id, out var s) && s == seq, $"confirmed send {id} (seq {seq}) is missing after the crash");
            CollectionAssert.AreEqual(Enumerable.Range(1, history.Count).Select(i => (long)i).ToArray(), history.Select(m => m.Seq).ToArray(),
                "seqs stay contiguous across the crash");

            // After the crash the conversation keeps ordering where the log ends.
            var next = await client.Client.GetGrain<IConversationGrain>(conv).SendAsync(a, "dev0", "after-crash", "still here");
            Assert.AreEqual(history.Count + 1, next.Message.Seq);
        }
    }

    [TestMethod]
    public async Task CursorsAndReadMarksWrittenByTheirTimersSurviveSigkill()
    {
        var data = TempDirectory.Create("e2e");
        string alice = Unique.User("a"), bob = Unique.User("b"), conv;

        var silo = await SiloProcess.StartAsync(data);
        try
        {
            foreach (var u in new[] { alice, bob })
                await RegisterAsync(silo, u);
            var alicePhone = await MqttTestClient.ConnectAsync(silo.MqttPort, alice, "phone", Chat.Password);
            var bobPhone = await MqttTestClient.ConnectAsync(silo.MqttPort, bob, "phone", Chat.Password);
            conv = await GatewayFixture.CreateConversationAsync(alicePhone, "direct", bob);
            for (var i = 1; i <= 3; i++)
                Assert.IsTrue((await alicePhone.SendAsync(conv, $"m{i}", $"{i}")).IsSuccess);
            await Eventually.TrueAsync(() => bobPhone.Messages(conv).Count == 3, "bob's phone gets (and acknowledges) all three");
            Assert.IsTrue((await bobPhone.PublishAsync($"c/{conv}/r", new { seq = 2 })).IsSuccess);

            // Nothing deactivates the grains: only their flush timers can put these on disk before the kill.
            await Eventually.TrueAsync(async () =>
                    (await GrainStateFile.ReadAsync<DeviceState>(data, "device", Ids.DeviceKey(bob, "phone")))?.Cursors.GetValueOrDefault(conv) == 3
                    && (await GrainStateFile.ReadAsync<ConversationState>(data, "conversation", conv))?.ReadMarks.GetValueOrDefault(bob) == 2,
                "bob's cursor (3) and read mark (2) written to grains.db by their timers", 15_000);
            await silo.KillAsync();
            alicePhone.Abort();
            bobPhone.Abort();
        }
        finally
        {
            await silo.DisposeAsync();
        }

        await using (var restarted = await SiloProcess.StartAsync(data))
        {
            await using var alicePhone = await MqttTestClient.ConnectAsync(restarted.MqttPort, alice, "phone", Chat.Password);
            await using var bobPhone = await MqttTestClient.ConnectAsync(restarted.MqttPort, bob, "phone", Chat.Password);
            Assert.IsTrue((await alicePhone.SendAsync(conv, "m4", "4")).IsSuccess);

            // Replay comes before live traffic: had the cursor been lost, 1-3 would arrive before 4.
            await bobPhone.WaitForAsync("m", m => (long?)m["seq"] == 4, "the message sent after the restart");
            CollectionAssert.AreEqual(new long[] { 4 }, bobPhone.Messages(conv).Select(m => (long)m["seq"]!).ToArray(),
                "acknowledged messages are not delivered again");
            var entry = (await bobPhone.CallAsync("conv.list"))!["conversations"]!.AsArray().Single()!;
            Assert.AreEqual(2, (long)entry["readSeq"]!, "the read mark survived");
        }
    }

    private static async Task RegisterAsync(SiloProcess silo, string user)
    {
        var r = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(GatewayFixture.Http,
            $"{silo.HttpBase}/v1/auth/register", new { user, password = Chat.Password });
        Assert.AreEqual(System.Net.HttpStatusCode.Created, r.StatusCode);
    }

    [TestMethod]
    public async Task RestartKeepsUsersConversationsAndCursors()
    {
        var data = TempDirectory.Create("e2e");
        string a = Unique.User("a"), b = Unique.User("b"), conv = Ids.Direct(a, b);

        await using (var silo = await SiloProcess.StartAsync(data))
        {
            StringAssert.Contains(silo.Output, data, "the log says where data lives");
            await using var client = await OrleansClient.ConnectAsync(silo.GatewayPort);
            var grains = client.Client;
            await grains.GetGrain<IUserGrain>(a).CreateAsync(Chat.Password);
            await grains.GetGrain<IUserGrain>(b).CreateAsync(Chat.Password);
            await grains.GetGrain<IConversationGrain>(conv).CreateDirectAsync(a, a, b);
            var gw = TestGateway.Create(grains);
            await gw.ConnectAsync(grains, b, "phone");
            for (var i = 1; i <= 3; i++)
                await grains.GetGrain<IConversationGrain>(conv).SendAsync(a, "phone", $"m{i}", $"{i}");
            await Eventually.TrueAsync(() => gw.Messages(b, "phone").Count == 3, "delivered before the restart");
            await grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "phone")).AckAsync(conv, 2);
            await silo.StopAsync();
        }

        await using (var silo = await SiloProcess.StartAsync(data))
        await using (var client = await OrleansClient.ConnectAsync(silo.GatewayPort))
        {
            var grains = client.Client;
            Assert.IsTrue(await grains.GetGrain<IUserGrain>(b).VerifyPasswordAsync(Chat.Password));
            Assert.AreEqual(3, (await grains.GetGrain<IUserGrain>(b).ListConversationsAsync()).Single().LastSeq);
            Assert.AreEqual(2, (await grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "phone")).GetCursorsAsync())[conv]);
            Assert.AreEqual(3, (await grains.GetGrain<IDeviceGrain>(Ids.DeviceKey(b, "phone")).SyncAsync(10)).Messages.Single().Seq);
        }

        // The password is stored only as a salted slow hash.
        var (holding, all) = await GrainStateFile.CountHoldingAsync(data, Chat.Password);
        Assert.IsGreaterThanOrEqualTo(2L, all, "the two users' states are on disk");
        Assert.AreEqual(0L, holding);
    }
}

/// <summary>The README's own command, <c>dotnet run --project Silo</c>, serving a real MQTT client.</summary>
[TestClass]
public sealed class DotnetRunTests
{
    [TestMethod]
    public async Task DotnetRunProjectSiloServesChat()
    {
        var data = TempDirectory.Create("dotnet-run");
        await using var silo = await SiloProcess.StartWithDotnetRunAsync(data);
        StringAssert.Contains(silo.Output, "Hosting environment: Development", "dotnet run uses the launch profile");
        string alice = Unique.User("a"), bob = Unique.User("b");
        foreach (var u in new[] { alice, bob })
        {
            var r = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(GatewayFixture.Http,
                $"{silo.HttpBase}/v1/auth/register", new { user = u, password = Chat.Password });
            Assert.AreEqual(System.Net.HttpStatusCode.Created, r.StatusCode);
        }
        await using var alicePhone = await MqttTestClient.ConnectAsync(silo.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(silo.MqttPort, bob, "phone", Chat.Password);
        var conv = (string)(await alicePhone.CallAsync("conv.create", new() { ["kind"] = "direct", ["members"] = new System.Text.Json.Nodes.JsonArray(bob) }))!["conv"]!;

        Assert.IsTrue((await alicePhone.SendAsync(conv, "m1", "started with dotnet run")).IsSuccess);

        await bobPhone.WaitForAsync("m", m => (string?)m["body"] == "started with dotnet run", "bob gets the message");
        Assert.IsTrue(File.Exists(Path.Combine(data, "messages.db")), "the data lives where Storage:DataDirectory says");
    }
}
