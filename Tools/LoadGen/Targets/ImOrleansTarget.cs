using System.Collections.Concurrent;
using System.Net;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Servers;
using MQTTnet;

namespace ImOrleans.Tools.LoadGen.Targets;

/// <summary>ImOrleans driven as a chat server: a pair is two users in a direct conversation, a fan-out a group whose
/// owner sends. Every connection is a device (<c>{user}/bench</c>) that subscribes to <c>u/{me}/#</c>, as the
/// protocol asks, and can both receive and make RPCs. Each connection is a fresh user (<c>b{run}u{i}</c>), except
/// that a group takes the users already connected as members: a user's new device would first be sent its history.
/// Connections log in with a token: minted when we know the server's signing key, else the account password.</summary>
public sealed class ImOrleansTarget(string name, ServerProcess? server, MqttConnector mqtt, ImOrleansAccounts accounts,
    TokenMinter? minter, string run, int devicesPerIdleUser) : ITarget
{
    private static readonly ParallelOptions Setup = new() { MaxDegreeOfParallelism = 8 };

    private readonly ConcurrentDictionary<string, (IMqttClient Client, RpcReplies Rpc)> _open = new();
    private int _users;
    private int _pairs;
    private string[] _idleTokens = [];

    public string Name => name;
    public ServerProcess? Server => server;
    public Recorder Recorder { get; } = new();

    public async Task<IReadOnlyList<Sender>> OpenPairsAsync(int count)
    {
        var users = await ConnectNewUsersAsync(2 * count);
        var first = _pairs;
        _pairs += count;
        var senders = new Sender[count];
        await Parallel.ForAsync(0, count, Setup, async (i, _) =>
        {
            var (a, b) = (users[2 * i], users[2 * i + 1]);
            var (client, rpc) = _open[a];
            var conv = (await rpc.CallAsync(client, "conv.create", new { kind = "direct", members = new[] { b } })).GetProperty("conv").GetString();
            senders[i] = new Sender(client, $"c/{conv}/m", $"p{first + i}", run);
        });
        return senders;
    }

    public async Task<Sender> OpenGroupAsync(int receivers)
    {
        var members = _open.Keys.Take(receivers).ToList();
        await CloseAsync(_open.Keys.Except(members).ToList());
        var added = await ConnectNewUsersAsync(receivers - members.Count + 1);
        var owner = added[^1];
        members.AddRange(added[..^1]);
        var (client, rpc) = _open[owner];
        var chunks = members.Chunk(100).ToList(); // at most 100 users per RPC
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

    public Task<IdleConnection> OpenIdleAsync(int index, IPAddress source)
    {
        var k = index / devicesPerIdleUser;
        return mqtt.OpenIdleAsync($"{IdleUser(k)}/d{index}", IdleUser(k), _idleTokens[k], $"u/{IdleUser(k)}/#", source);
    }

    public Task CloseAsync() => CloseAsync(_open.Keys.ToList());

    private async Task CloseAsync(IReadOnlyList<string> users)
    {
        var clients = users.Select(u => _open.TryRemove(u, out var d) ? d.Client : null).OfType<IMqttClient>().ToList();
        await MqttConnector.CloseAllAsync(clients);
    }

    private string IdleUser(int k) => $"b{run}idle{k}";

    /// <summary>Registers <paramref name="count"/> new users and connects a device of each.</summary>
    private async Task<string[]> ConnectNewUsersAsync(int count)
    {
        var users = Enumerable.Range(_users, count).Select(i => $"b{run}u{i}").ToArray();
        _users += count;
        await Parallel.ForEachAsync(users, Setup, async (user, _) =>
        {
            await accounts.RegisterAsync(user);
            var rpc = new RpcReplies(user);
            var receiver = new Receiver(Recorder, $"u/{user}/m");
            var client = await mqtt.ConnectAsync($"{user}/bench", user, minter?.Mint(user) ?? ImOrleansAccounts.Password, $"u/{user}/#",
                async e =>
                {
                    await receiver.OnMessageAsync(e);
                    await rpc.OnMessageAsync(e);
                });
            _open[user] = (client, rpc);
        });
        return users;
    }
}
