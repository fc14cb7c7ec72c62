using System.Collections.Concurrent;
using System.Net;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Servers;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>The reference broker driven as a plain pub/sub broker: each receiver subscribes to its own topic
/// (<c>bench/{run}/pair{i}</c>) and its sender publishes there; a fan-out is N subscribers on one topic.
/// Anonymous: the broker has no accounts.</summary>
public sealed class MosquittoTarget(string name, ServerProcess? server, MqttConnector mqtt, string run) : ITarget
{
    private static readonly ParallelOptions Setup = new() { MaxDegreeOfParallelism = 16 };

    private readonly ConcurrentBag<IMqttClient> _open = [];
    private int _pairs;

    public string Name => name;
    public ServerProcess? Server => server;
    public Recorder Recorder { get; } = new();

    public async Task<IReadOnlyList<Sender>> OpenPairsAsync(int count)
    {
        var first = _pairs;
        _pairs += count;
        var senders = new Sender[count];
        await Parallel.ForAsync(0, count, Setup, async (i, _) =>
        {
            var topic = $"bench/{run}/pair{first + i}";
            await OpenAsync($"{run}-r{first + i}", topic, new Receiver(Recorder, topic).OnMessageAsync);
            senders[i] = new Sender(await OpenAsync($"{run}-s{first + i}", null, null), topic, $"p{first + i}", run);
        });
        return senders;
    }

    public async Task<Sender> OpenGroupAsync(int receivers)
    {
        await CloseAsync();
        var topic = $"bench/{run}/group";
        await Parallel.ForAsync(0, receivers, Setup, async (i, _) =>
            await OpenAsync($"{run}-g{i}", topic, new Receiver(Recorder, topic).OnMessageAsync));
        return new Sender(await OpenAsync($"{run}-gs", null, null), topic, "g", run);
    }

    public Task PrepareIdleAsync(int count) => Task.CompletedTask;

    public Task<IdleConnection> OpenIdleAsync(int index, IPAddress source) =>
        mqtt.OpenIdleAsync($"{run}-idle{index}", null, null, $"bench/{run}/idle/{index}", source);

    public async Task CloseAsync()
    {
        var clients = new List<IMqttClient>();
        while (_open.TryTake(out var c))
            clients.Add(c);
        await MqttConnector.CloseAllAsync(clients);
    }

    private async Task<IMqttClient> OpenAsync(string clientId, string? subscription, Func<MqttApplicationMessageReceivedEventArgs, Task>? onMessage)
    {
        var client = await mqtt.ConnectAsync(clientId, null, null, subscription, onMessage);
        _open.Add(client);
        return client;
    }
}
