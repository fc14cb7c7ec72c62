using ImOrleans.Gateway.Attachments;
using ImOrleans.Grains;
using ImOrleans.Grains.Storage;
using Microsoft.Extensions.Options;

namespace ImOrleans.Silo.Hosting;

/// <summary>Deletes messages older than their retention (<c>Limits:RetentionDays</c>, or the conversation's own), and
/// the attachments only they named. A background service on each silo rather than Orleans reminders: one indexed
/// query over the store finds expired messages of every conversation at once, where reminders would be one row and one
/// grain activation per conversation per run, mostly to find nothing. Silos sweeping together do the same idempotent deletes.</summary>
public sealed class RetentionSweep(IMessageStore messages, IAttachmentStore attachments, IOptions<ChatLimits> limits, TimeProvider time,
    ILogger<RetentionSweep> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(limits.Value.RetentionSweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Retention sweep failed; next try in {Interval}", limits.Value.RetentionSweepInterval);
            }
        }
    }

    /// <summary>One run at the current time; returns the messages removed.</summary>
    public async Task<RetentionRun> SweepAsync(CancellationToken ct)
    {
        var run = await messages.DeleteExpiredAsync(time.GetUtcNow(), limits.Value.RetentionDays, ct);
        foreach (var (conversation, id) in run.Attachments.Distinct())
        {
            // An attachment sent again in a newer message (or in another conversation) stays for that one.
            if (await messages.NamesAttachmentAsync(conversation, id, ct))
                continue;
            if (await attachments.UnlinkAsync(id, conversation, ct) == 0)
                await attachments.DeleteAsync(id, ct);
        }
        if (run.Messages > 0)
            log.LogInformation("Retention removed {Messages} messages and looked at {Attachments} attachments", run.Messages, run.Attachments.Count);
        return run;
    }
}
