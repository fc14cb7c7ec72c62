using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Attachments;

/// <summary>Deletes uploads that no message named within <see cref="AttachmentOptions.UnreferencedLifetime"/>. Every
/// gateway runs it; deletes are idempotent, so two gateways sweeping the same database do no harm.</summary>
public sealed class AttachmentCleanup(IAttachmentStore store, IOptions<AttachmentOptions> options, TimeProvider time,
    ILogger<AttachmentCleanup> log) : BackgroundService
{
    private const int Batch = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(ex, "Sweeping unreferenced attachments failed; next try in {Interval}", options.Value.CleanupInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One sweep: every unreferenced upload older than the lifetime, in batches.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var before = time.GetUtcNow() - options.Value.UnreferencedLifetime;
        var deleted = 0;
        while (true)
        {
            var ids = await store.ListUnreferencedAsync(before, Batch, ct);
            foreach (var id in ids)
                await store.DeleteAsync(id, ct);
            deleted += ids.Count;
            if (ids.Count < Batch)
                break;
        }
        if (deleted > 0)
            log.LogInformation("Deleted {Count} attachments no message named", deleted);
        return deleted;
    }
}
