using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace ImOrleans.Tools.LoadGen;

/// <summary>P pairs chat 1:1; each sender publishes M messages QoS 1, the next once the PUBACK (durability) is
/// back. Reports throughput, PUBACK and end-to-end latency; checks every peer got everything in order.</summary>
public static class PairsScenario
{
    public static async Task<bool> RunAsync(LoadClients clients, int pairs, int perSender)
    {
        Console.WriteLine($"setting up {pairs} pairs ...");
        var endToEnd = new ConcurrentBag<double>();
        var pubacks = new ConcurrentBag<double>();
        var deliveries = new DeliveryCounter();
        var senders = new List<(MQTTnet.IMqttClient Client, string Conv)>();
        for (var p = 0; p < pairs; p++)
        {
            var (a, b) = ($"load{clients.Run}a{p}", $"load{clients.Run}b{p}");
            await clients.RegisterAsync(a);
            await clients.RegisterAsync(b);
            await clients.ConnectAsync(b, "phone", deliveries.Receiver((_, body) => endToEnd.Add(LoadClients.SinceStamp(body))));
            var sender = await clients.ConnectAsync(a, "phone");
            var (first, second) = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            await LoadClients.PublishAsync(sender, "rpc/conv.create", JsonSerializer.Serialize(new { rid = "1", kind = "direct", members = new[] { b } }));
            senders.Add((sender, $"d:{first}:{second}")); // the direct conversation id: both users, sorted
        }
        await Task.Delay(500); // let the conversations exist before the first send

        Console.WriteLine($"sending {pairs * perSender} messages ...");
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(senders.Select(async s =>
        {
            for (var i = 0; i < perSender; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var r = await LoadClients.PublishAsync(s.Client, $"c/{s.Conv}/m", $"{{\"id\":\"m{i}\",\"body\":\"{LoadClients.Stamp()}\"}}");
                if (!r.IsSuccess)
                    throw new InvalidOperationException($"send refused: {r.ReasonCode} {r.ReasonString}");
                pubacks.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        var sendSeconds = clock.Elapsed.TotalSeconds;
        await deliveries.WaitForAsync(pairs * perSender, TimeSpan.FromSeconds(30));

        Console.WriteLine($"pairs={pairs} messages={pairs * perSender} delivered={deliveries.Received} out-of-order={deliveries.OutOfOrder}");
        Console.WriteLine($"throughput={pairs * perSender / sendSeconds:F0} msg/s (durable, PUBACKed)");
        Console.WriteLine($"puback-ms p50={LoadClients.Percentile(pubacks, 0.5):F1} p99={LoadClients.Percentile(pubacks, 0.99):F1}");
        Console.WriteLine($"end-to-end-ms p50={LoadClients.Percentile(endToEnd, 0.5):F1} p99={LoadClients.Percentile(endToEnd, 0.99):F1}");
        return deliveries.Received == pairs * perSender && deliveries.OutOfOrder == 0;
    }
}
