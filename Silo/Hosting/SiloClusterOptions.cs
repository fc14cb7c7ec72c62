namespace ImOrleans.Silo.Hosting;

/// <summary>Orleans membership and endpoints, bound from the <c>Orleans</c> configuration section.</summary>
public sealed class SiloClusterOptions
{
    public const string Section = "Orleans";

    public string ClusterId { get; set; } = "imorleans";
    public string ServiceId { get; set; } = "imorleans";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients use to reach this one (cluster mode; e.g. the pod IP).</summary>
    public string? AdvertisedIP { get; set; }
}
