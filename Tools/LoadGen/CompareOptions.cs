using System.Globalization;

namespace ImOrleans.Tools.LoadGen;

/// <summary>Options of <c>LoadGen compare</c>. The defaults are the full run of issue 8; <c>--quick</c> is a
/// smoke run of well under a minute of load.</summary>
public sealed record CompareOptions
{
    public const string Usage = """
        usage: LoadGen compare [--silo PATH] [--mosquitto PATH] [--counters PATH] [--quick] [--keep]
                               [--seconds S] [--rate N] [--open-seconds S] [--fanout N] [--fanout-messages N]
                               [--idle N] [--idle-per-user N] [--postgres] [--only SERVER]
          --silo             the built Silo.dll                        (Silo/bin/Release/net10.0/Silo.dll)
          --mosquitto        the reference broker                      (/usr/sbin/mosquitto)
          --counters         dotnet-counters, to count Orleans messages (skipped without)
          --seconds          each closed-loop scenario                 (5)
          --rate, --open-seconds  the open-loop scenario over 100 pairs (1000 msg/s for 10 s)
          --fanout, --fanout-messages  receivers and messages          (1000, 20)
          --idle             idle connections per server, 0 to skip    (15000)
          --idle-per-user    ImOrleans devices per idle user           (500)
          --postgres         also ImOrleans in cluster mode on PostgreSQL (imorleans-pg): a throwaway server from
                             Debian's postgresql package, fsync on; its CPU counts as the server's
          --only             run one server alone: mosquitto, imorleans or imorleans-pg (no ratios)
          --keep             keep the servers' data and logs
        """;

    public string Silo { get; init; } = "Silo/bin/Release/net10.0/Silo.dll";
    public string Mosquitto { get; init; } = "/usr/sbin/mosquitto";
    public string? Counters { get; init; }
    public TimeSpan ClosedLoop { get; init; } = TimeSpan.FromSeconds(5);
    public int Window { get; init; } = 10;
    public int[] PairCounts { get; init; } = [1, 10, 100];
    public int OpenLoopRate { get; init; } = 1000;
    public TimeSpan OpenLoop { get; init; } = TimeSpan.FromSeconds(10);
    public int FanOutReceivers { get; init; } = 1000;
    public int FanOutMessages { get; init; } = 20;
    public int Idle { get; init; } = 15000;
    public int IdlePerUser { get; init; } = 500;
    public bool Keep { get; init; }
    public string? Only { get; init; }
    public bool Postgres { get; init; }

    public int MaxPairs => PairCounts.Max();

    public static CompareOptions Parse(string[] args)
    {
        var o = new CompareOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
            int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--silo" => o with { Silo = Value() },
                "--mosquitto" => o with { Mosquitto = Value() },
                "--counters" => o with { Counters = Value() },
                "--seconds" => o with { ClosedLoop = TimeSpan.FromSeconds(Int()) },
                "--rate" => o with { OpenLoopRate = Int() },
                "--open-seconds" => o with { OpenLoop = TimeSpan.FromSeconds(Int()) },
                "--fanout" => o with { FanOutReceivers = Int() },
                "--fanout-messages" => o with { FanOutMessages = Int() },
                "--idle" => o with { Idle = Int() },
                "--idle-per-user" => o with { IdlePerUser = Int() },
                "--keep" => o with { Keep = true },
                "--only" => o with { Only = Value() },
                "--postgres" => o with { Postgres = true },
                "--quick" => o with
                {
                    ClosedLoop = TimeSpan.FromSeconds(2), OpenLoop = TimeSpan.FromSeconds(3), FanOutReceivers = 100,
                    FanOutMessages = 10, Idle = 1000,
                },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        return o;
    }
}
