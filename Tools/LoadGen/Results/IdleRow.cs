namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>Idle connections on one server: how many opened, resident memory each added once they settled, and
/// how fast they connected.</summary>
public sealed record IdleRow(string Server, int Connected, int Failed, double KbPerConnection, double ConnectsPerSecond, string? FirstError);
