using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ImOrleans.Grains.Push;

/// <summary>Sends alerts in the background: one bounded queue and its own workers per provider, so that a slow or
/// failing provider holds up only its own alerts. <see cref="TryEnqueue"/> never waits: a full queue drops the alert
/// (the message itself is in the store; the device gets it when it connects). Pending alerts are lost with the
/// process, never a message.</summary>
public sealed partial class PushQueue : BackgroundService
{
    private readonly Dictionary<string, (IPushProvider Provider, Channel<PushNotification> Channel)> _lanes;
    private readonly PushOptions _options;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<PushQueue> _log;

    public PushQueue(IEnumerable<IPushProvider> providers, IOptions<PushOptions> options, IGrainFactory grains,
        ILogger<PushQueue> log, TimeProvider? time = null)
    {
        _options = options.Value;
        _grains = grains;
        _log = log;
        _time = time ?? TimeProvider.System;
        _lanes = providers.ToDictionary(p => p.Name, p => (p, Channel.CreateBounded<PushNotification>(
            new BoundedChannelOptions(_options.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait })));
    }

    /// <summary>The providers configured on this server.</summary>

    public bool Has(string provider) => _lanes.ContainsKey(provider);

    /// <summary>Null when the provider may send to <paramref name="target"/>, else why not.</summary>
    public string? Refuse(Models.PushTarget target) => _lanes.TryGetValue(target.Provider, out var lane) ? lane.Provider.Refuse(target) : null;

    /// <summary>Queues an alert; false (and counted as dropped) when its provider's queue is full or not configured.</summary>
    public bool TryEnqueue(PushNotification notification)
    {
        if (_lanes.TryGetValue(notification.Target.Provider, out var lane) && lane.Channel.Writer.TryWrite(notification))
            return true;
        PushMetrics.Count(notification.Target.Provider, "dropped");
        LogDropped(notification.Target.Provider);
        return false;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_lanes.Values.SelectMany(lane =>
            Enumerable.Range(0, _options.WorkersPerProvider).Select(_ => Task.Run(() => WorkAsync(lane.Provider, lane.Channel.Reader, stoppingToken), CancellationToken.None))));

    private async Task WorkAsync(IPushProvider provider, ChannelReader<PushNotification> reader, CancellationToken stop)
    {
        try
        {
            await foreach (var notification in reader.ReadAllAsync(stop))
            {
                try
                {
                    await DeliverAsync(provider, notification, stop);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // One alert's trouble (the push grain unreachable for a dead token, say) must not end this worker.
                    PushMetrics.Count(provider.Name, "failed");
                    LogProviderError(ex, provider.Name);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // shutting down: what is still queued is lost, as a crash would lose it
        }
    }

    /// <summary>Sends one alert, retrying "later" answers with backoff (or the service's Retry-After) up to
    /// <see cref="PushOptions.MaxAttempts"/>; a dead token goes back to the user's push grain to be deleted.</summary>
    internal async Task<PushResult> DeliverAsync(IPushProvider provider, PushNotification n, CancellationToken stop)
    {
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var result = await SendOnceAsync(provider, n, stop);
            switch (result.Status)
            {
                case PushStatus.Sent:
                    PushMetrics.Count(provider.Name, "sent");
                    return result;
                case PushStatus.TokenDead:
                    PushMetrics.Count(provider.Name, "token_removed");
                    LogTokenDead(provider.Name, n.User, n.Device, result.Reason);
                    await _grains.Ref<IPushGrain>(n.User).TokenRejectedAsync(n.Device, n.Target.Token);
                    return result;
                case PushStatus.Retry when attempt < _options.MaxAttempts:
                    var wait = result.RetryAfter ?? delay;
                    if (wait > _options.MaxRetryDelay)
                        goto default;
                    PushMetrics.Count(provider.Name, "retried");
                    LogRetry(provider.Name, result.Reason, wait.TotalMilliseconds, attempt);
                    await Task.Delay(wait, _time, stop);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
                    break;
                default:
                    PushMetrics.Count(provider.Name, "failed");
                    LogFailed(provider.Name, result.Status, result.Reason, attempt);
                    return result;
            }
        }
    }

    private async Task<PushResult> SendOnceAsync(IPushProvider provider, PushNotification n, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await provider.SendAsync(n, timeout.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return PushResult.Retry("timeout");
        }
        catch (HttpRequestException ex)
        {
            return PushResult.Retry($"network: {ex.HttpRequestError}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProviderError(ex, provider.Name);
            return PushResult.Failed(ex.GetType().Name);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Push queue of {Provider} is full: alert dropped")]
    private partial void LogDropped(string provider);

    [LoggerMessage(LogLevel.Information, "Push token of {User}/{Device} is dead ({Provider}: {Reason}): registration removed")]
    private partial void LogTokenDead(string provider, string user, string device, string reason);

    [LoggerMessage(LogLevel.Debug, "Push via {Provider} retried after {DelayMs} ms ({Reason}), attempt {Attempt}")]
    private partial void LogRetry(string provider, string reason, double delayMs, int attempt);

    [LoggerMessage(LogLevel.Warning, "Push via {Provider} given up: {Status} {Reason} after {Attempts} attempts")]
    private partial void LogFailed(string provider, PushStatus status, string reason, int attempts);

    [LoggerMessage(LogLevel.Error, "Push provider {Provider} threw")]
    private partial void LogProviderError(Exception ex, string provider);
}
