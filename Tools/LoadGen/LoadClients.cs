using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace ImOrleans.Tools.LoadGen;

/// <summary>Registers users and opens MQTT 5 connections against the server under test.</summary>
public sealed class LoadClients(string host, int mqttPort, int httpPort) : IDisposable
{
    public const string Password = "load-test-password";

    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://{host}:{httpPort}") };
    private readonly MqttClientFactory _factory = new();
    private readonly List<IMqttClient> _open = [];

    public string Run { get; } = Guid.NewGuid().ToString("N")[..6];

    public async Task RegisterAsync(string user) =>
        (await _http.PostAsJsonAsync("/v1/auth/register", new { user, password = Password })).EnsureSuccessStatusCode();

    public async Task<IMqttClient> ConnectAsync(string user, string device, Func<MqttApplicationMessageReceivedEventArgs, Task>? onMessage = null)
    {
        var client = _factory.CreateMqttClient();
        if (onMessage is not null)
            client.ApplicationMessageReceivedAsync += onMessage;
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, mqttPort)
            .WithClientId($"{user}/{device}").WithCredentials(user, Password)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"{user}: {result.ResultCode} {result.ReasonString}");
        lock (_open)
            _open.Add(client);
        return client;
    }

    public static Task<MqttClientPublishResult> PublishAsync(IMqttClient client, string topic, string json) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(Encoding.UTF8.GetBytes(json))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>A body that carries its send time, so receivers can measure end-to-end latency.</summary>
    public static string Stamp() => Stopwatch.GetTimestamp().ToString();

    public static double SinceStamp(string body) => Stopwatch.GetElapsedTime(long.Parse(body)).TotalMilliseconds;

    public static double Percentile(IEnumerable<double> values, double q)
    {
        var a = values.Order().ToArray();
        return a.Length == 0 ? double.NaN : a[(int)Math.Min(a.Length - 1, q * a.Length)];
    }

    public async Task CloseAllAsync()
    {
        foreach (var c in _open)
        {
            if (c.IsConnected)
                await c.DisconnectAsync();
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var c in _open)
            c.Dispose();
    }
}
