using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Messaging;

namespace ImOrleans.Gateway.Hosting;

/// <summary>Grain calls that may safely run twice (a send is deduplicated by its client message id, a read mark only
/// moves forward, binding a connection again replays what the device drops as duplicates), made so that a silo's
/// death costs seconds, not Orleans' 30-second response timeout: an attempt that was lost or refused on the way is
/// repeated until the cluster has noticed the death and the grain answers from its new activation, within a budget.
/// Never use it for calls that are not idempotent: those must fail, not run twice.</summary>
public sealed class IdempotentCalls(IOptions<CallRetryOptions> options, ILogger<IdempotentCalls> log)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(500);

    /// <summary>A quick call (a send, a read mark): each attempt gets <see cref="CallRetryOptions.AttemptTimeout"/>, and
    /// the whole call <see cref="CallRetryOptions.Budget"/>, after which it fails with <see cref="ErrorCodes.Unavailable"/>.</summary>
    public Task<T> InvokeAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default) =>
        RunAsync(what, call, options.Value.AttemptTimeout, cancellationToken);

    /// <inheritdoc cref="InvokeAsync{T}"/>
    public Task InvokeAsync(string what, Func<CancellationToken, Task> call, CancellationToken cancellationToken = default) =>
        RunAsync(what, Untyped(call), options.Value.AttemptTimeout, cancellationToken);

    /// <summary>A call that may take long by nature (binding a connection replays the device's backlog): an attempt
    /// has no deadline of its own, so a slow one is not made twice, but one refused on its way (its silo is dead) is
    /// repeated while the budget lasts.</summary>
    public Task<T> InvokeSlowAsync<T>(string what, Func<Task<T>> call, CancellationToken cancellationToken = default) =>
        RunAsync(what, _ => call(), null, cancellationToken);

    private async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> call, TimeSpan? attemptTimeout,
        CancellationToken cancellationToken)
    {
        var budget = options.Value.Budget;
        var started = Stopwatch.GetTimestamp();
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (attemptTimeout is { } timeout)
            {
                var left = budget - Stopwatch.GetElapsedTime(started);
                deadline.CancelAfter(TimeSpan.FromTicks(Math.Clamp(left.Ticks, TimeSpan.TicksPerMillisecond, timeout.Ticks)));
            }
            try
            {
                // The token cancels the call in Orleans when the grain method takes one; WaitAsync stops waiting either way.
                return await call(deadline.Token).WaitAsync(deadline.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsLost(ex))
            {
                if (budget - Stopwatch.GetElapsedTime(started) <= pause)
                {
                    log.LogWarning(ex, "{Call} got no answer in {Attempts} attempts over {Budget}", what, attempt, budget);
                    throw new ImException(ErrorCodes.Unavailable, "the service did not answer in time; retry with the same id");
                }
                // Every call in flight to a dying silo passes here: not worth a line each at Information.
                log.LogDebug("{Call}: attempt {Attempt} got no answer ({Error}); retrying", what, attempt, ex.GetType().Name);
                await Task.Delay(pause, cancellationToken);
                pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
            }
        }
    }

    private static Func<CancellationToken, Task<bool>> Untyped(Func<CancellationToken, Task> call) => async ct =>
    {
        await call(ct);
        return true;
    };

    /// <summary>The call's answer never came (deadline, Orleans timeout) or the message could not be delivered (target
    /// silo dead or unreachable): the call may or may not have run. Domain errors (<see cref="ImException"/>) are answers.</summary>
    private static bool IsLost(Exception ex) =>
        ex is OperationCanceledException or TimeoutException or OrleansMessageRejectionException or GatewayTooBusyException or ConnectionFailedException;
}
