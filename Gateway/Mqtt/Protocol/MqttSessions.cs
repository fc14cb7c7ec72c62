
namespace ImOrleans.Gateway.Mqtt;

/// <summary>Every MQTT session this gateway holds, bound or not: for draining, and for MQTT's keep-alive, which one
/// sweep a second checks for all of them (a timer per connection would cost 15 000 timers at 15 000 connections).</summary>
public sealed class MqttSessions(ILogger<MqttSessions> log) : BackgroundService
{
    private readonly HashSet<MqttSession> _all = [];

    public MqttSession[] Snapshot()
    {
        lock (_all)
            return [.. _all];
    }

    internal void Add(MqttSession session)
    {
        lock (_all)
            _all.Add(session);
    }

    internal void Remove(MqttSession session)
    {
        lock (_all)
            _all.Remove(session);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = Environment.TickCount64;
            List<MqttSession>? silent = null; // checked in place: copying 15 000 sessions a second would be garbage
            lock (_all)
            {
                foreach (var session in _all)
                {
                    if (session.IsSilentSince(now))
                        (silent ??= []).Add(session);
                }
            }
            foreach (var session in silent ?? [])
            {
                log.LogDebug("Closing {ClientId}: nothing heard within one and a half keep-alive periods", session.ClientId);
                session.Abort("keep-alive expired");
            }
        }
    }
}
