using System.Collections.Concurrent;
using System.Net;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Servers;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>ImOrleans driven as a chat server: a pair is two users in a direct conversation, a fan-out a group whose
/// owner sends. Every connection is a device (<c>{user}/{device}</c>) that subscribes to <c>u/{me}/#</c>, as the
/// protocol asks, and can both receive and make RPCs. Users come from one pool (<c>b{run}u{i}</c>), each registered
/// and connected once: the group's members include the pairs' users, on the same connections (a second device
/// would first be sent the user's whole history). Connections log in with a token: minted when we know the
/// server's signing key, else the account password.</summary>
public sealed class ImOrleansTarget(string name, ServerProcess? server, MqttConnector mqtt, ImOrleansAccounts accounts,
    TokenMinter? minter, string run, int devicesPerIdleUser) : ITarget
{
    private static readonly ParallelOptions Setup = new() { MaxDegreeOfParallelism = 8 };

    private readonly ConcurrentDictionary<string, (IMqttClient Client, RpcReplies Rpc)> _devices = new();
    private int _registered;
    private string[] _idleTokens = [];

    public string Name => name;
    public ServerProcess? Server => server;
    public Recorder Recorder { get; } = new();

    public async Task<IReadOnlyList<Sender>> OpenPairsAsync(int count)
    {
        await ConnectUsersAsync(2 * count);
        var senders = new Sender[count];
        await Parallel.ForAsync(0, count, Setup, async (i, _) =>
        {
            var (a, b) = (User(2 * i), User(2 * i + 1));
            var (client, rpc) = _devices[a];
            var conv = (await rpc.CallAsync(client, "conv.create", new { kind = "direct", members = new[] { b } })).GetProperty("conv").GetString();
            senders[i] = new Sender(client, $"c/{conv}/m", $"p{i}", run);
        });
        return senders;
    }

    public async Task<Sender> OpenGroupAsync(int receivers)
    {
        await ConnectUsersAsync(receivers + 1);
        var (client, rpc) = _devices[User(receivers)]; // the owner; users 0 … receivers-1 are the members
        var chunks = Enumerable.Range(0, receivers).Select(User).Chunk(100).ToList(); // at most 100 users per RPC
        var conv = (await rpc.CallAsync(client, "conv.create", new { kind = "group", members = chunks[0] })).GetProperty("conv").GetString()!;
        foreach (var chunk in chunks.Skip(1))
            await rpc.CallAsync(client, "conv.add", new { conv, members = chunk });
        return new Sender(client, $"c/{conv}/m", "g", run);
    }

    /// <summary>Registers one user per <c>devicesPerIdleUser</c> connections and gets each a token from the token endpoint.</summary>
    public async Task PrepareIdleAsync(int count)
    {
        _idleTokens = new string[(count + devicesPerIdleUser - 1) / devicesPerIdleUser];
        await Parallel.ForAsync(0, _idleTokens.Length, Setup, async (k, _) =>
        {
            await accounts.RegisterAsync(IdleUser(k));
            _idleTokens[k] = await accounts.TokenAsync(IdleUser(k));
        });
    }

    public Task<IMqttClient> OpenIdleAsync(int index, IPAddress source)
    {
        var k = index / devicesPerIdleUser;
        return mqtt.ConnectAsync($"{IdleUser(k)}/d{index}", IdleUser(k), _idleTokens[k], $"u/{IdleUser(k)}/#", source: source, idle: true);
    }

    public async Task CloseAsync()
    {
        await MqttConnector.CloseAllAsync(_devices.Values.Select(d => d.Client).ToList());
        _devices.Clear();
    }

    private string User(int i) => $"b{run}u{i}";

    private string IdleUser(int k) => $"b{run}idle{k}";

    /// <summary>Registers and connects users 0 … count-1 of the pool, those not done yet.</summary>
    private async Task ConnectUsersAsync(int count)
    {
        await Parallel.ForAsync(_registered, Math.Max(_registered, count), Setup, async (i, _) => await accounts.RegisterAsync(User(i)));
        _registered = Math.Max(_registered, count);
        await Parallel.ForAsync(0, count, Setup, async (i, _) =>
        {
            var user = User(i);
            if (_devices.ContainsKey(user))
                return;
            var rpc = new RpcReplies(user);
            var receiver = new Receiver(Recorder, $"u/{user}/m");
            var client = await mqtt.ConnectAsync($"{user}/bench", user, minter?.Mint(user) ?? ImOrleansAccounts.Password, $"u/{user}/#",
                async e =>
                {
                    await receiver.OnMessageAsync(e);
                    await rpc.OnMessageAsync(e);
                });
            _devices[user] = (client, rpc);
        });
    }
}
