// The load generator and speed benchmark of ImOrleans. Every scenario is bounded in time and ends even if a
// server stalls.
//
//   bash Tools/bench/run.sh [compare options]      builds, then runs `compare`: ImOrleans beside mosquitto, one table
//   dotnet run -c Release --project Tools/LoadGen -- compare [options]   (see CompareOptions.cs)
//   dotnet run -c Release --project Tools/LoadGen -- pairs  [pairs=20] [seconds=10] [host] [mqtt-port] [http-port]
//   dotnet run -c Release --project Tools/LoadGen -- fanout [receivers=200] [messages=20] [host] [mqtt-port] [http-port]
// (pairs and fanout drive an ImOrleans server you started, with a high Gateway:RatePerSecond and Gateway:RateBurst.)
using ImOrleans.Tools.LoadGen;

try
{
    return args.FirstOrDefault() switch
    {
        "compare" => await Compare.RunAsync(CompareOptions.Parse(args[1..])),
        "pairs" => await RunningServerCommands.PairsAsync(args[1..]),
        "fanout" => await RunningServerCommands.FanOutAsync(args[1..]),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine(CompareOptions.Usage);
    Console.Error.WriteLine("       LoadGen pairs  [pairs=20] [seconds=10] [host] [mqtt-port] [http-port]");
    Console.Error.WriteLine("       LoadGen fanout [receivers=200] [messages=20] [host] [mqtt-port] [http-port]");
    return 2;
}
