namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Idle connections on one server: how many opened, resident memory each added once they settled, how fast
/// they connected, the server CPU each connect cost (and the load tool's own: when that is near two cores' worth of the
/// connect rate, the tool, not the server, is what limits the rate), and how much CPU the server spends while they all just stay
/// connected (% of one core).</summary>
public sealed record IdleRow(string Server, int Connected, int Failed, double KbPerConnection, double ConnectsPerSecond,
    double CpuPerConnectUs, double ToolCpuPerConnectUs, double IdleCpuPercent, string? FirstError);
