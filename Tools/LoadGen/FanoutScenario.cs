using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImOrleans.Tools.LoadGen;

/// <summary>One group of N members, each with one connected device; one member publishes M messages, one
/// after another. Reports how long each message takes to reach the last member, and checks that every
/// member got every message in order.</summary>
public static class FanoutScenario
{
    private const int MembersPerRpc = 100;

    public static async Task<bool> RunAsync(LoadClients clients, int members, int messages)
    {
        Console.WriteLine($"setting up a group of {members} ...");
        var users = Enumerable.Range(0, members).Select(i => $"fan{clients.Run}u{i}").ToList();
        foreach (var u in users)
            await clients.RegisterAsync(u);

        var reachedAll = new ConcurrentBag<double>();
        var perMessage = new ConcurrentDictionary<long, int>();
        var deliveries = new DeliveryCounter();
        foreach (var u in users.Skip(1))
        {
            await clients.ConnectAsync(u, "phone", deliveries.Receiver((seq, body) =>
            {
                if (perMessage.AddOrUpdate(seq, 1, (_, n) => n + 1) == members - 1)
                    reachedAll.Add(LoadClients.SinceStamp(body));
            }));
        }

        var replies = new ConcurrentQueue<JsonObject>();
        var owner = await clients.ConnectAsync(users[0], "phone", e =>
        {
            if (e.ApplicationMessage.Topic.EndsWith("/r"))
            {
                var reader = new Utf8JsonReader(e.ApplicationMessage.Payload);
                replies.Enqueue(JsonNode.Parse(ref reader)!.AsObject());
            }
            return Task.CompletedTask;
        });
        var chunks = users.Skip(1).Chunk(MembersPerRpc).ToList();
        await LoadClients.PublishAsync(owner, "rpc/conv.create", JsonSerializer.Serialize(new { rid = "create", kind = "group", members = chunks[0] }));
        var conv = await ReplyAsync(replies, "create");
        foreach (var (chunk, i) in chunks.Skip(1).Select((c, i) => (c, i)))
        {
            await LoadClients.PublishAsync(owner, "rpc/conv.add", JsonSerializer.Serialize(new { rid = $"add{i}", conv, members = chunk }));
            await ReplyAsync(replies, $"add{i}");
        }

        Console.WriteLine($"sending {messages} messages to {members - 1} other members ...");
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            var r = await LoadClients.PublishAsync(owner, $"c/{conv}/m", $"{{\"id\":\"f{i}\",\"body\":\"{LoadClients.Stamp()}\"}}");
            if (!r.IsSuccess)
                throw new InvalidOperationException($"send refused: {r.ReasonCode} {r.ReasonString}");
        }
        var expected = messages * (members - 1);
        await deliveries.WaitForAsync(expected, TimeSpan.FromSeconds(60));
        clock.Stop();

        Console.WriteLine($"members={members} messages={messages} deliveries={deliveries.Received}/{expected} out-of-order={deliveries.OutOfOrder}");
        Console.WriteLine($"deliveries/s={deliveries.Received / clock.Elapsed.TotalSeconds:F0}");
        Console.WriteLine($"reach-all-ms p50={LoadClients.Percentile(reachedAll, 0.5):F1} p99={LoadClients.Percentile(reachedAll, 0.99):F1} max={LoadClients.Percentile(reachedAll, 1):F1}");
        return deliveries.Received == expected && deliveries.OutOfOrder == 0;
    }

    private static async Task<string> ReplyAsync(ConcurrentQueue<JsonObject> replies, string rid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var reply = replies.FirstOrDefault(r => (string?)r["rid"] == rid);
            if (reply is not null)
                return (bool)reply["ok"]! ? (string)reply["result"]!["conv"]! : throw new InvalidOperationException(reply.ToJsonString());
            await Task.Delay(20);
        }
        throw new TimeoutException($"no reply to {rid}");
    }
}
