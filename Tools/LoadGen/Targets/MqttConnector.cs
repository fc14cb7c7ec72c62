using System.Net;
using System.Runtime.CompilerServices;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>Opens MQTT 5 connections to one server: connect (optionally from a given loopback source address, so
/// thousands of connections do not run out of ephemeral ports), subscribe at QoS 1, all within a timeout. A connection
/// that ends without the tool closing it is reported on the progress output, with the reason (the server's code, or
/// the client's own timeout): its messages would otherwise show up only as lost, with no telling whether the server
/// failed to deliver or the client was gone.</summary>
public sealed class MqttConnector(string host, int port)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Clients the tool is closing itself: their disconnects are expected. Weak: closed clients are not kept alive.
    private static readonly ConditionalWeakTable<IMqttClient, object> Closing = new();

    private readonly MqttClientFactory _factory = new();

    /// <summary>Connections that ended without the tool closing them, so far (all servers).</summary>
    public static int Dropped => _dropped;

    private static int _dropped;

    public async Task<IMqttClient> ConnectAsync(string clientId, string? user, string? password, string? subscription,
        Func<MqttApplicationMessageReceivedEventArgs, Task>? onMessage = null, IPAddress? source = null)
    {
        var builder = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithCleanStart().WithTimeout(Timeout);
        if (user is not null)
            builder.WithCredentials(user, password);
        var options = builder.Build();
        if (source is not null)
        {
            var tcp = (MqttClientTcpOptions)options.ChannelOptions;
            tcp.RemoteEndpoint = new IPEndPoint(IPAddress.Parse(host), port);
            tcp.LocalEndpoint = new IPEndPoint(source, 0);
        }

        var client = _factory.CreateMqttClient();
        if (onMessage is not null)
            client.ApplicationMessageReceivedAsync += onMessage;
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected && !Closing.TryGetValue(client, out _) && Interlocked.Increment(ref _dropped) <= 20)
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}]   {clientId} at {host}:{port} was disconnected: {e.Reason} {e.ReasonString} {e.Exception?.Message}");
            return Task.CompletedTask;
        };
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var connected = await client.ConnectAsync(options, timeout.Token);
            if (connected.ResultCode != MqttClientConnectResultCode.Success)
                throw new InvalidOperationException($"{clientId}: CONNACK {connected.ResultCode} {connected.ReasonString}");
            if (subscription is not null)
            {
                var subscribed = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                    .WithTopicFilter(subscription, MqttQualityOfServiceLevel.AtLeastOnce).Build(), timeout.Token);
                var code = subscribed.Items.Single().ResultCode;
                if (code != MqttClientSubscribeResultCode.GrantedQoS1)
                    throw new InvalidOperationException($"{clientId}: SUBACK {code} for {subscription}");
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>An idle connection (see <see cref="IdleConnection"/>) from <paramref name="source"/>.</summary>
    public Task<IdleConnection> OpenIdleAsync(string clientId, string? user, string? password, string topicFilter, IPAddress source) =>
        IdleConnection.OpenAsync(new IPEndPoint(IPAddress.Parse(host), port), source, clientId, user, password, topicFilter);

    public static MqttApplicationMessage QoS1(string topic, byte[] payload) =>
        new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();

    /// <summary>Disconnects every client (within one overall minute, then just closes the sockets) and disposes it.</summary>
    public static async Task CloseAllAsync(IEnumerable<IMqttClient> clients)
    {
        using var budget = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) =>
        {
            Closing.TryAdd(c, c);
            try
            {
                if (c.IsConnected && !budget.IsCancellationRequested)
                    await c.DisconnectAsync(new MqttClientDisconnectOptions(), budget.Token);
            }
            catch (Exception)
            {
                // Closing only: a server that is gone or slow must not stop the run.
            }
            c.Dispose();
        });
    }
}
