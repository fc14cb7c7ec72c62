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

    /// <summary>Cluster mode: Orleans' liveness probe timeout, which also paces the probes (adapting to measured
    /// response times between half and four times it). A silo is declared dead after three missed probes, and until
    /// then the grains it hosted cannot be activated elsewhere, so their senders wait. Orleans' default of 5 s took
    /// 8–10 s to evict a killed silo on a loaded machine; 2 s takes about half that, while a live but slow silo is
    /// still protected by the adaptive timeout, an indirect probe through another silo, and the two votes needed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
