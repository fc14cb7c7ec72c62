namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Idle connections on one server: how many opened, resident memory each added once they settled, how fast
/// they connected and the server CPU each connect cost, and how much CPU the server spends while they all just stay
/// connected (% of one core).</summary>
public sealed record IdleRow(string Server, int Connected, int Failed, double KbPerConnection, double ConnectsPerSecond,
    double CpuPerConnectUs, double IdleCpuPercent, string? FirstError);
