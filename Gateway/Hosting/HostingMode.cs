namespace ImOrleans.Gateway.Hosting;

/// <summary>Embedded (one process on SQLite, for one machine) or cluster (silos and gateways on PostgreSQL), as
/// <c>Storage:Provider</c> says. Defaults that are conveniences on one machine (open registration, password login
/// over MQTT) are off in a cluster.</summary>
public static class HostingMode
{
    public const string ProviderKey = "Storage:Provider";

    /// <summary>True for PostgreSQL, false for SQLite (or nothing set); any other value stops the process at start,
    /// rather than a typo silently picking the embedded mode.</summary>
    public static bool IsCluster(IConfiguration configuration) => configuration[ProviderKey] switch
    {
        null or "" => false,
        var p when p.Equals("Sqlite", StringComparison.OrdinalIgnoreCase) => false,
        var p when p.Equals("PostgreSQL", StringComparison.OrdinalIgnoreCase) => true,
        var p => throw new InvalidOperationException($"{ProviderKey} must be Sqlite or PostgreSQL, not '{p}'"),
    };
}
