using System.Text.Json.Nodes;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.EndToEnd;

/// <summary>One MQTT send is one trace across the server: the publish, the conversation's grain call, and the call
/// that delivers it to the receiver's gateway, as exported over OTLP to a collector.</summary>
[TestClass]
public sealed class TracingTests
{
    [TestMethod]
    public async Task OneSendIsOneTraceFromThePublishThroughTheConversationToTheDelivery()
    {
        using var collector = new OtlpReceiver();
        await using var server = await SiloProcess.StartAsync(TempDirectory.Create("traces"),
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.Endpoint}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_BSP_SCHEDULE_DELAY=200");
        var (alice, bob) = (await HttpAccounts.RegisterAsync(server, "a"), await HttpAccounts.RegisterAsync(server, "b"));
        await using var alicePhone = await MqttTestClient.ConnectAsync(server.MqttPort, alice, "phone", Chat.Password);
        await using var bobPhone = await MqttTestClient.ConnectAsync(server.MqttPort, bob, "phone", Chat.Password);
        var conv = (string)(await alicePhone.CallAsync("conv.create", new JsonObject { ["kind"] = "direct", ["members"] = new JsonArray(bob) }))!["conv"]!;
        Assert.IsTrue((await alicePhone.SendAsync(conv, "traced", "follow me")).IsSuccess);
        await bobPhone.WaitForAsync("m", m => (string?)m["id"] == "traced", "bob has the message");

        bool Whole(IGrouping<string, OtlpReceiver.Span> trace) =>
            trace.Any(s => s.Name == "mqtt publish")
            && trace.Any(s => s.Name.Contains("ConversationGrain", StringComparison.Ordinal) && s.Name.Contains("Post", StringComparison.Ordinal))
            && trace.Any(s => s.Name.Contains("GatewayObserver", StringComparison.Ordinal) && s.Name.Contains("Deliver", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => collector.Spans.GroupBy(s => s.TraceId).Any(Whole),
            "a trace with the publish, the conversation's Post (the send) and the gateway's Deliver", 30_000,
            () => "traces seen: " + string.Join(" | ", collector.Spans.GroupBy(s => s.TraceId).Select(t => string.Join(", ", t.Select(s => s.Name).Distinct()))));
    }
}
