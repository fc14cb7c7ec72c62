using ImOrleans.Gateway.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;

namespace ImOrleans.Gateway.Mqtt;

/// <summary>Empties the MQTT side of this gateway when the host begins to stop, before any hosted service stops:
/// <c>/readyz</c> turns unready, new connections are closed at once, and every client is disconnected, MQTT 5
/// clients with "use another server" (and <see cref="GatewayOptions.ServerReference"/> where configured). Without
/// this, Kestrel waits for the MQTT connections to end by themselves until the host's shutdown timeout, and the
/// silo in the same process then stops non-gracefully.</summary>
public sealed class MqttDrain(MqttSessions sessions, IOptions<GatewayOptions> options, ILogger<MqttDrain> log)
    : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var all = sessions.Snapshot();
        log.LogInformation("Draining: disconnecting {Count} MQTT clients", all.Length);
        await Task.WhenAll(all.Select(s => s.DisconnectAsync(MqttDisconnectReasonCode.UseAnotherServer, "the server is shutting down",
            options.Value.ServerReference))).WaitAsync(cancellationToken);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_draining ? HealthCheckResult.Unhealthy("draining: the gateway is shutting down") : HealthCheckResult.Healthy());

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
