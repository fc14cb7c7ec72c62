using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Formatter;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A real MQTT client (MQTTnet) on a real socket, recording everything it receives.</summary>
public sealed class MqttTestClient : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly ConcurrentQueue<(string Topic, JsonObject Payload, MqttApplicationMessage Raw)> _received = new();

    public string User { get; }
    public string Device { get; }
    public MqttClientConnectResult ConnectResult { get; private set; } = null!;

    /// <summary>How the connection ended, once the server (or the network) ended it.</summary>
    public MqttClientDisconnectedEventArgs? Disconnected { get; private set; }

    /// <summary>When false the client takes deliveries but never acknowledges them, as a stalled app would.</summary>
    public bool Acknowledge { get; set; } = true;

    private MqttTestClient(IMqttClient client, string user, string device)
    {
        _client = client;
        User = user;
        Device = device;
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected)
                Disconnected = e;
            return Task.CompletedTask;
        };
        _client.ApplicationMessageReceivedAsync += e =>
        {
            e.AutoAcknowledge = Acknowledge;
            var text = e.ApplicationMessage.ConvertPayloadToString();
            var payload = JsonNode.Parse(text) as JsonObject ?? [];
            _received.Enqueue((e.ApplicationMessage.Topic, payload, e.ApplicationMessage));
            return Task.CompletedTask;
        };
    }

    public bool IsConnected => _client.IsConnected;

    public static async Task<MqttTestClient> ConnectAsync(int port, string user, string device, string password,
        MqttProtocolVersion version = MqttProtocolVersion.V500, string? webSocketUri = null, string? clientId = null, bool subscribe = true,
        bool tls = false, bool cleanSession = true, ushort receiveMaximum = 0, uint maximumPacketSize = 0)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var t = new MqttTestClient(client, user, device);
        var options = new MqttClientOptionsBuilder()
            .WithClientId(clientId ?? $"{user}/{device}")
            .WithCredentials(user, password)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithCleanSession(cleanSession)
            .WithReceiveMaximum(receiveMaximum)
            .WithMaximumPacketSize(maximumPacketSize);
        options = webSocketUri is null
            ? options.WithTcpServer("127.0.0.1", port)
            : options.WithWebSocketServer(o => o.WithUri(webSocketUri));
        if (tls) // the test certificate is self-signed
            options = options.WithTlsOptions(o => o.UseTls().WithCertificateValidationHandler(_ => true));
        t.ConnectResult = await client.ConnectAsync(options.Build());
        if (subscribe && t.ConnectResult.ResultCode == MqttClientConnectResultCode.Success)
            await client.SubscribeAsync($"u/{user}/#", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        return t;
    }

    public Task<MqttClientSubscribeResult> SubscribeAsync(string filter) =>
        _client.SubscribeAsync(filter, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);

    public Task<MqttClientPublishResult> PublishAsync(string topic, object payload, MQTTnet.Protocol.MqttQualityOfServiceLevel qos = MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce) =>
        PublishRawAsync(topic, payload as string ?? JsonSerializer.Serialize(payload), qos);

    public Task<MqttClientPublishResult> PublishRawAsync(string topic, string payload, MQTTnet.Protocol.MqttQualityOfServiceLevel qos = MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(payload)).WithQualityOfServiceLevel(qos).Build());

    public Task<MqttClientPublishResult> PublishAsync(MqttApplicationMessage message) => _client.PublishAsync(message);

    public Task<MqttClientPublishResult> SendAsync(string conv, string id, string body) => PublishAsync($"c/{conv}/m", new { id, body });

    /// <summary>Sends, waiting out the connection's rate limit (for tests that send more than a burst).</summary>
    public async Task SendPacedAsync(string conv, string id, string body)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var r = await SendAsync(conv, id, body);
            if (r.IsSuccess)
                return;
            Assert.AreEqual(MqttClientPublishReasonCode.QuotaExceeded, r.ReasonCode, r.ReasonString);
            await Task.Delay(100);
        }
        Assert.Fail($"send {id} still rate limited after 100 attempts");
    }

    /// <summary>Payloads received on <c>u/{me}/{kind}</c> so far, in arrival order.</summary>
    public IReadOnlyList<JsonObject> Received(string kind) =>
        _received.Where(r => r.Topic == $"u/{User}/{kind}").Select(r => r.Payload).ToList();

    public IReadOnlyList<(string Topic, JsonObject Payload, MqttApplicationMessage Raw)> All => _received.ToList();

    public IReadOnlyList<JsonObject> Messages(string conv) =>
        Received("m").Where(m => (string?)m["conv"] == conv).ToList();

    public async Task<JsonObject> WaitForAsync(string kind, Func<JsonObject, bool> match, string what, int timeoutMs = 15_000)
    {
        JsonObject? found = null;
        await Eventually.TrueAsync(() => (found = Received(kind).FirstOrDefault(match)) is not null, $"{User}/{Device}: {what}", timeoutMs,
            () => $"connected: {IsConnected}; received: {string.Join(", ", All.Select(r => $"{r.Topic} {r.Payload.ToJsonString()}").TakeLast(10))}");
        return found!;
    }

    /// <summary>Calls an RPC method and waits for its reply on <c>u/{me}/r</c>.</summary>
    public async Task<JsonObject> RpcAsync(string method, JsonObject? args = null)
    {
        var rid = Guid.NewGuid().ToString("N");
        args ??= [];
        args["rid"] = rid;
        await PublishRawAsync($"rpc/{method}", args.ToJsonString());
        return await WaitForAsync("r", r => (string?)r["rid"] == rid, $"reply to {method}");
    }

    /// <summary>Calls an RPC method and returns its result, failing the test if the call failed.</summary>
    public async Task<JsonNode?> CallAsync(string method, JsonObject? args = null)
    {
        var reply = await RpcAsync(method, args);
        Assert.IsTrue((bool?)reply["ok"] == true, $"{method} failed: {reply.ToJsonString()}");
        return reply["result"];
    }

    public Task DisconnectAsync() => _client.DisconnectAsync();

    /// <summary>Drops the socket without a DISCONNECT packet, as a phone losing its network would.</summary>
    public void Abort() => _client.Dispose();

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
            await _client.DisconnectAsync();
        _client.Dispose();
    }
}
