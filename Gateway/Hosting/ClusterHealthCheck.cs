using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ImOrleans.Gateway.Hosting;

/// <summary>Healthy while this process can reach the Orleans cluster: the API is useless without it, so a probe
/// (gRPC health or Kubernetes) should take this gateway out of rotation when it cannot.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    /// <summary>Probes expect an answer in seconds, well before the grain call timeout.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var silos = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(Timeout, cancellationToken);
            return silos.Count > 0
                ? HealthCheckResult.Healthy($"{silos.Count} active silo(s)")
                : HealthCheckResult.Unhealthy("no active silo");
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            return HealthCheckResult.Unhealthy("the cluster cannot be reached", ex);
        }
    }
}
