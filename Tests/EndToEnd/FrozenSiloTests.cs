using System.Collections.Concurrent;
using System.Diagnostics;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;
using Npgsql;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>Two silos on one PostgreSQL. Every group commit takes the same advisory lock (feed order), so a silo
/// frozen inside a batch would hold up every send in the cluster; the store's session timeouts bound that.</summary>
[TestClass]
public sealed class FrozenSiloTests
{
    /// <summary>The advisory lock every batch takes (PostgresMessageStore.FeedOrderLock).</summary>
    private const long FeedOrderLock = 7345022;

    private static readonly TimeSpan ResumeWithin = TimeSpan.FromSeconds(15);

    [TestMethod]
    public async Task SiloFrozenWhileHoldingTheStoreLockDoesNotStopSendsThroughTheOther()
    {
        var db = await PostgresServer.CreateDatabaseAsync("frozen");
        string[] args = ["--Storage:Provider=PostgreSQL", $"--Storage:PostgreSQL={db}",
            "--Storage:LockTimeout=00:00:01", "--Storage:IdleInTransactionTimeout=00:00:02",
            "--Gateway:RatePerSecond=100000", "--Gateway:RateBurst=100000",
            "--Gateway:PasswordLogin=true", $"--Auth:SigningKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}"];
        await using var first = await SiloProcess.StartAsync(TempDirectory.Create("frozen"), args);
        await using var second = await SiloProcess.StartAsync(TempDirectory.Create("frozen"), args);

        // Conversations land on either silo; the frozen one (P) is the one that writes for the conversations under load,
        // the other (Q) writes for the probe's conversation.
        var (onP, onQ, frozen, other) = await PlaceConversationsAsync(first, second);
        var clients = new List<MqttTestClient>();
        try
        {
            foreach (var (conv, sender) in onP)
                clients.Add(await MqttTestClient.ConnectAsync(frozen.MqttPort, sender, "load", Chat.Password, subscribe: false));
            var (probeConv, probeSender) = onQ[0];
            var probe = await MqttTestClient.ConnectAsync(other.MqttPort, probeSender, "probe", Chat.Password, subscribe: false);
            clients.Add(probe);
            // One send before the freeze: the conversation then knows the sender's account is active, and the probe
            // depends on the store lock alone, not on which silo the sender's user grain happens to live on.
            await SendUntilAcceptedAsync(probe, probeConv, "probe-0", TimeSpan.FromSeconds(15));

            using var stop = new CancellationTokenSource();
            var acked = new ConcurrentQueue<(string Conv, string Id)>();
            var loads = onP.Select((c, i) => LoadAsync(clients[i], c.Conv, acked, stop.Token)).ToList();
            await Eventually.TrueAsync(() => acked.Count >= 50, "sends flow through the silo to be frozen", 30_000);

            var (holder, tries) = await FreezeWhileHoldingTheLockAsync(frozen, db);
            var clock = Stopwatch.StartNew();
            await SendUntilAcceptedAsync(probe, probeConv, "probe-1", ResumeWithin);
            var resumedAfter = clock.Elapsed;
            for (var i = 2; i <= 5; i++)
                await SendUntilAcceptedAsync(probe, probeConv, $"probe-{i}", TimeSpan.FromSeconds(5));
            // The other silo now takes the same lock for its own batches, so a holder may be there: just not the frozen one.
            Assert.AreNotEqual(holder, await LockHolderAsync(db), "the frozen silo's session was ended and its lock released");
            Console.WriteLine($"frozen inside a batch at try {tries} (lock holder pid {holder}); sends through the other silo resumed {resumedAfter.TotalSeconds:F1} s later");

            await frozen.ResumeAsync();
            var before = acked.Count;
            await Eventually.TrueAsync(() => acked.Count > before + 20, "the thawed silo takes sends again", 30_000);
            await stop.CancelAsync();
            await Task.WhenAll(loads).WaitAsync(TimeSpan.FromSeconds(60));

            var stored = await StoredAsync(db);
            var lost = acked.Where(a => !stored.Contains(a)).ToList();
            Assert.IsEmpty(lost, $"acknowledged but not stored: {string.Join(", ", lost.Take(10))}");
            for (var i = 1; i <= 5; i++)
                Assert.Contains((probeConv, $"probe-{i}"), stored);
            Console.WriteLine($"{acked.Count} acknowledged sends through the frozen silo, all stored");
        }
        finally
        {
            await frozen.ResumeAsync(); // a stopped process cannot shut down
            foreach (var c in clients)
                c.Abort();
        }
    }

    /// <summary>Direct conversations made through an Orleans client (so placement spreads them) until both silos
    /// host some; returns them by silo, with the user who sends in each.</summary>
    private static async Task<(List<(string Conv, string Sender)> OnP, List<(string Conv, string Sender)> OnQ, SiloProcess P, SiloProcess Q)>
        PlaceConversationsAsync(SiloProcess first, SiloProcess second)
    {
        await using var orleans = await OrleansClient.ConnectAsync(first.GatewayPort);
        var grains = orleans.Client;
        var management = grains.GetGrain<IManagementGrain>(0);
        await Eventually.TrueAsync(async () => (await management.GetHosts(onlyActive: true)).Count == 2, "both silos are in the cluster", 60_000);
        var byPort = (await management.GetDetailedHosts(onlyActive: true)).ToDictionary(h => h.SiloAddress, h => h.ProxyPort);

        var bySilo = new Dictionary<int, List<(string, string)>> { [first.GatewayPort] = [], [second.GatewayPort] = [] };
        // At least four under load on one, and one for the probe on the other.
        bool Enough() => bySilo.Values.Max(l => l.Count) >= 4 && bySilo.Values.Min(l => l.Count) >= 1;
        for (var i = 0; i < 64 && !Enough(); i++)
        {
            var (sender, partner) = (await Chat.NewUserAsync(grains, "s"), await Chat.NewUserAsync(grains, "p"));
            var conv = await Chat.NewDirectAsync(grains, sender, partner);
            var address = await management.GetActivationAddress(grains.GetGrain<IConversationGrain>(conv));
            Assert.IsNotNull(address, "a conversation just created is active");
            bySilo[byPort[address]].Add((conv, sender));
        }
        var (p, q) = bySilo[first.GatewayPort].Count >= bySilo[second.GatewayPort].Count ? (first, second) : (second, first);
        Assert.IsNotEmpty(bySilo[q.GatewayPort], "some conversation lives on each silo");
        return (bySilo[p.GatewayPort], bySilo[q.GatewayPort], p, q);
    }

    /// <summary>Sends one message after another, each retried with its id until acknowledged, as a client would.</summary>
    private static async Task LoadAsync(MqttTestClient client, string conv, ConcurrentQueue<(string, string)> acked, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var id = $"load-{n}";
            while (!stop.IsCancellationRequested)
            {
                MqttClientPublishResult result;
                try
                {
                    result = await client.SendAsync(conv, id, "under load");
                }
                catch (Exception) when (stop.IsCancellationRequested || !client.IsConnected)
                {
                    return;
                }
                if (result.IsSuccess)
                {
                    acked.Enqueue((conv, id));
                    break;
                }
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    /// <summary>SIGSTOPs the silo until it is caught holding the feed-order lock in an open transaction.</summary>
    private static async Task<(int Pid, int Tries)> FreezeWhileHoldingTheLockAsync(SiloProcess silo, string db)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            await silo.SuspendAsync();
            // Only the frozen silo writes, so a holder is its session; still holding a moment later, it is stuck.
            if (await LockHolderAsync(db) is { } pid)
            {
                await Task.Delay(300);
                if (await LockHolderAsync(db) == pid)
                    return (pid, attempt + 1);
            }
            await silo.ResumeAsync();
            await Task.Delay(Random.Shared.Next(5, 40));
        }
        Assert.Fail("never caught the silo inside a batch in 300 tries");
        return default;
    }

    private static async Task<int?> LockHolderAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        // A bigint advisory key shows as classid (high 32 bits), objid (low 32 bits) and objsubid 1.
        await using var cmd = new NpgsqlCommand(
            $"SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {FeedOrderLock} AND objsubid = 1 AND granted", conn);
        return await cmd.ExecuteScalarAsync() is int pid ? pid : null;
    }

    private static async Task SendUntilAcceptedAsync(MqttTestClient client, string conv, string id, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            var send = client.SendAsync(conv, id, "through the other silo");
            if (await Task.WhenAny(send, Task.Delay(within - deadline.Elapsed)) != send)
                break;
            if ((await send).IsSuccess)
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"send {id} through the other silo was not accepted within {within.TotalSeconds} s of the freeze");
    }

    private static async Task<HashSet<(string, string)>> StoredAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT conversation_id, client_id FROM im_messages", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var stored = new HashSet<(string, string)>();
        while (await r.ReadAsync())
            stored.Add((r.GetString(0), r.GetString(1)));
        return stored;
    }
}
