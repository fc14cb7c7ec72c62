using System.Globalization;
using ImOrleans.Tools.LoadGen.Results;
using ImOrleans.Tools.LoadGen.Scenarios;
using ImOrleans.Tools.LoadGen.Targets;

namespace ImOrleans.Tools.LoadGen;

/// <summary>One scenario against an ImOrleans server someone else started (say under dotnet-trace), logging in
/// with passwords. No CPU column: the server is not our child process.</summary>
public static class RunningServerCommands
{
    // pairs [pairs=20] [seconds=10] [host] [mqtt-port] [http-port]
    public static async Task<int> PairsAsync(string[] args)
    {
        var (target, close) = Connect(args);
        using var _ = close;
        var pairs = Arg(args, 0, 20);
        var senders = await target.OpenPairsAsync(pairs);
        var row = await ClosedLoop.RunAsync($"{pairs} pairs, closed loop, 10 in flight", target, senders, 10, TimeSpan.FromSeconds(Arg(args, 1, 10)));
        await target.CloseAsync();
        return Print(row);
    }

    // fanout [receivers=200] [messages=20] [host] [mqtt-port] [http-port]
    public static async Task<int> FanOutAsync(string[] args)
    {
        var (target, close) = Connect(args);
        using var _ = close;
        var receivers = Arg(args, 0, 200);
        var sender = await target.OpenGroupAsync(receivers);
        var row = await FanOut.RunAsync($"fan-out 1→{receivers}, to last receiver", target, sender, receivers, Arg(args, 1, 20));
        await target.CloseAsync();
        return Print(row);
    }

    private static (ImOrleansTarget Target, IDisposable Accounts) Connect(string[] args)
    {
        var host = args.Length > 2 ? args[2] : "127.0.0.1";
        var accounts = new ImOrleansAccounts(host, Arg(args, 4, 8080));
        var run = Guid.NewGuid().ToString("N")[..6];
        return (new ImOrleansTarget("imorleans", null, new MqttConnector(host, Arg(args, 3, 1883)), accounts, null, run, 10), accounts);
    }

    private static int Print(Row row)
    {
        ResultTable.Print(Console.Out, [row], [], "", [row.Server], null);
        return row.Clean ? 0 : 1;
    }

    private static int Arg(string[] args, int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
}
