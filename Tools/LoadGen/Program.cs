// Load generator for a running server: P pairs of users chat 1:1 over MQTT; each sender publishes M
// messages QoS 1, one after the other (the next once the PUBACK, i.e. durability, is back). Prints
// throughput, PUBACK latency and end-to-end latency (publish → delivery to the peer), and checks that
// every peer got every message exactly in order. Bounded: P*M messages, then it stops.
//
//   dotnet run -c Release --project Tools/LoadGen -- [pairs=20] [messages-per-sender=200] [host=127.0.0.1] [mqtt-port=1883] [http-port=8080]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;

var pairs = args.Length > 0 ? int.Parse(args[0]) : 20;
var perSender = args.Length > 1 ? int.Parse(args[1]) : 200;
var host = args.Length > 2 ? args[2] : "127.0.0.1";
var mqttPort = args.Length > 3 ? int.Parse(args[3]) : 1883;
var httpPort = args.Length > 4 ? int.Parse(args[4]) : 8080;
const string Password = "load-test-password";

var run = Guid.NewGuid().ToString("N")[..6];
using var http = new HttpClient { BaseAddress = new Uri($"http://{host}:{httpPort}") };
var factory = new MqttClientFactory();

async Task<IMqttClient> ConnectAsync(string user, string device, Func<MqttApplicationMessageReceivedEventArgs, Task>? onMessage = null)
{
    var client = factory.CreateMqttClient();
    if (onMessage is not null)
        client.ApplicationMessageReceivedAsync += onMessage;
    var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, mqttPort)
        .WithClientId($"{user}/{device}").WithCredentials(user, Password)
        .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
    if (result.ResultCode != MqttClientConnectResultCode.Success)
        throw new InvalidOperationException($"{user}: {result.ResultCode} {result.ReasonString}");
    return client;
}

Console.WriteLine($"setting up {pairs} pairs ...");
var endToEnd = new ConcurrentBag<double>();
var pubacks = new ConcurrentBag<double>();
var outOfOrder = 0;
var received = 0;
var senders = new List<(IMqttClient Client, string Conv)>();
var receivers = new List<IMqttClient>();
for (var p = 0; p < pairs; p++)
{
    var (a, b) = ($"load{run}a{p}", $"load{run}b{p}");
    foreach (var u in new[] { a, b })
        (await http.PostAsJsonAsync("/v1/auth/register", new { user = u, password = Password })).EnsureSuccessStatusCode();
    long lastSeq = 0;
    receivers.Add(await ConnectAsync(b, "phone", e =>
    {
        using var doc = JsonDocument.Parse(e.ApplicationMessage.Payload);
        if (!e.ApplicationMessage.Topic.EndsWith("/m"))
            return Task.CompletedTask;
        var seq = doc.RootElement.GetProperty("seq").GetInt64();
        if (seq != lastSeq + 1)
            Interlocked.Increment(ref outOfOrder);
        lastSeq = seq;
        var sentAt = long.Parse(doc.RootElement.GetProperty("body").GetString()!);
        endToEnd.Add(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
        Interlocked.Increment(ref received);
        return Task.CompletedTask;
    }));
    var sender = await ConnectAsync(a, "phone");
    var (first, second) = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
    var conv = $"d:{first}:{second}"; // the direct conversation id: both users, sorted
    var create = new MqttApplicationMessageBuilder().WithTopic("rpc/conv.create")
        .WithPayload(JsonSerializer.Serialize(new { rid = "1", kind = "direct", members = new[] { b } }))
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
    await sender.PublishAsync(create);
    senders.Add((sender, conv));
}
await Task.Delay(500); // let the conversations exist before the first send

Console.WriteLine($"sending {pairs * perSender} messages ...");
var clock = Stopwatch.StartNew();
await Task.WhenAll(senders.Select(async s =>
{
    for (var i = 0; i < perSender; i++)
    {
        var started = Stopwatch.GetTimestamp();
        var msg = new MqttApplicationMessageBuilder().WithTopic($"c/{s.Conv}/m")
            .WithPayload(Encoding.UTF8.GetBytes($"{{\"id\":\"m{i}\",\"body\":\"{started}\"}}"))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        var r = await s.Client.PublishAsync(msg);
        if (!r.IsSuccess)
            throw new InvalidOperationException($"send refused: {r.ReasonCode} {r.ReasonString}");
        pubacks.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}));
var sendSeconds = clock.Elapsed.TotalSeconds;
var deadline = DateTime.UtcNow.AddSeconds(30);
while (Volatile.Read(ref received) < pairs * perSender && DateTime.UtcNow < deadline)
    await Task.Delay(50);
clock.Stop();

static double P(IEnumerable<double> xs, double q)
{
    var a = xs.Order().ToArray();
    return a.Length == 0 ? double.NaN : a[(int)Math.Min(a.Length - 1, q * a.Length)];
}
Console.WriteLine($"pairs={pairs} messages={pairs * perSender} delivered={received} out-of-order={outOfOrder}");
Console.WriteLine($"throughput={pairs * perSender / sendSeconds:F0} msg/s (durable, PUBACKed)");
Console.WriteLine($"puback-ms p50={P(pubacks, 0.5):F1} p99={P(pubacks, 0.99):F1}");
Console.WriteLine($"end-to-end-ms p50={P(endToEnd, 0.5):F1} p99={P(endToEnd, 0.99):F1}");
foreach (var c in senders.Select(s => s.Client).Concat(receivers))
    await c.DisconnectAsync();
return received == pairs * perSender && outOfOrder == 0 ? 0 : 1;
