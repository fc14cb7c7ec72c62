// Load generator for a running server (start it with a high enough Gateway:RatePerSecond). Bounded: every
// scenario sends a fixed number of messages, waits at most a minute for deliveries, and stops.
//
//   dotnet run -c Release --project Tools/LoadGen -- pairs  [pairs=20]    [messages-per-sender=200] [host] [mqtt-port] [http-port]
//   dotnet run -c Release --project Tools/LoadGen -- fanout [members=200] [messages=20]             [host] [mqtt-port] [http-port]
using ImOrleans.Tools.LoadGen;

if (args.Length == 0 || args[0] is not ("pairs" or "fanout"))
{
    Console.Error.WriteLine("usage: LoadGen pairs [pairs] [messages-per-sender] [host] [mqtt-port] [http-port]");
    Console.Error.WriteLine("       LoadGen fanout [members] [messages] [host] [mqtt-port] [http-port]");
    return 2;
}
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;
using var clients = new LoadClients(args.Length > 3 ? args[3] : "127.0.0.1", Arg(4, 1883), Arg(5, 8080));
var ok = args[0] == "pairs"
    ? await PairsScenario.RunAsync(clients, Arg(1, 20), Arg(2, 200))
    : await FanoutScenario.RunAsync(clients, Arg(1, 200), Arg(2, 20));
await clients.CloseAllAsync();
return ok ? 0 : 1;
