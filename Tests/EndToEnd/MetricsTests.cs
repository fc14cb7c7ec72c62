using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;
using MQTTnet;

namespace ImOrleans.Tests.EndToEnd;

/// <summary><c>/metrics</c> of a server that nothing else uses, scraped after a known exchange: the counters
/// moved by exactly what happened.</summary>
[TestClass]
public sealed class MetricsTests
{
    [TestMethod]
    public async Task MetricsCountAnExchangeExactly()
    {
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("metrics"), "--Auth:FailedLoginsPerMinute=1000");
        string alice = Unique.User("a"), bob = Unique.User("b");
        foreach (var user in new[] { alice, bob })
            Assert.IsTrue((await GatewayFixture.Http.PostAsJsonAsync($"{server.HttpBase}/v1/auth/register", new { user, password = Chat.Password })).IsSuccessStatusCode);
        await using var alicePhone = await MqttTestClient.ConnectAsync(server.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "phone", Chat.Password);
        await using (var wrong = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "other", "not the password", subscribe: false))
            Assert.AreEqual(MqttClientConnectResultCode.BadUserNameOrPassword, wrong.ConnectResult.ResultCode);
        await (await MqttTestClient.ConnectAsync(server.MqttPort, bob, "tablet", Chat.Password, subscribe: false)).DisposeAsync();
        var conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;

        for (var i = 0; i < 5; i++)
            Assert.IsTrue((await alicePhone.SendAsync(conv, $"m{i}", "counted")).IsSuccess);
        await Eventually.TrueAsync(() => bobPhone.Messages(conv).Count == 5, "bob has the five messages");

        // Acks reach the counters as bob's client sends its PUBACKs; wait for them rather than guess.
        Dictionary<string, double> metrics = [];
        await Eventually.TrueAsync(async () => Value(metrics = await ScrapeAsync(server), "imorleans_acks_total") >= 5, "five acks counted");

        Assert.AreEqual(5, Value(metrics, "imorleans_messages_stored_total"), "messages stored");
        Assert.AreEqual(5, Value(metrics, "imorleans_publishes_total", "kind=\"message\""), "message publishes");
        Assert.AreEqual(1, Value(metrics, "imorleans_publishes_total", "kind=\"rpc\""), "the conv.create RPC");
        Assert.AreEqual(5, Value(metrics, "imorleans_deliveries_total"), "deliveries to bob's phone");
        Assert.AreEqual(5, Value(metrics, "imorleans_acks_total"), "bob's acks");
        Assert.AreEqual(5, Value(metrics, "imorleans_delivery_latency_milliseconds_count"), "a latency per ack");
        Assert.AreEqual(2, Value(metrics, "imorleans_connections", "version=\"5.0\""), "two MQTT 5 connections open");
        Assert.AreEqual(2, Value(metrics, "imorleans_connections", "transport=\"tcp\""), "both over plain TCP");
        Assert.AreEqual(1, Value(metrics, "imorleans_disconnects_total", "type=\"Clean\""), "bob's tablet left with a DISCONNECT");
        Assert.AreEqual(3, Value(metrics, "imorleans_delivery_catchups_total", "scope=\"all\""), "one replay read per connect");
        Assert.AreEqual(0, Value(metrics, "imorleans_delivery_replayed_total"), "everything else went live");
        Assert.AreEqual(1, Value(metrics, "imorleans_connections_refused_total", "reason=\"BadUserNameOrPassword\""), "the wrong password");
        Assert.IsGreaterThanOrEqualTo(1, Value(metrics, "imorleans_store_batch_size_count"), "batches");
        Assert.IsTrue(metrics.Keys.Any(k => k.StartsWith("orleans_", StringComparison.Ordinal)), "Orleans' own meter is exported");
    }

    /// <summary>Prometheus text: one sample per line, "name{labels} value"; comments skipped.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(SiloProcess server)
    {
        var text = await GatewayFixture.Http.GetStringAsync($"{server.HttpBase}/metrics");
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            // "name{labels} value [timestamp]", or "name value [timestamp]" without labels.
            var end = line.IndexOf('}') is var brace and >= 0 ? brace + 1 : line.IndexOf(' ');
            if (end > 0 && double.TryParse(line[(end + 1)..].Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                samples[line[..end]] = value;
        }
        return samples;
    }

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels contain <paramref name="label"/>.</summary>
    private static double Value(Dictionary<string, double> samples, string name, string? label = null) =>
        samples.Where(s => (s.Key == name || s.Key.StartsWith(name + "{", StringComparison.Ordinal)) && (label is null || s.Key.Contains(label, StringComparison.Ordinal)))
            .Sum(s => s.Value);
}
