using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Messaging;

namespace ImOrleans.Gateway.Hosting;

/// <summary>Grain calls that may safely run twice (a send is deduplicated by its client message id, a read mark only
/// moves forward), made so that a silo's death costs seconds, not Orleans' 30-second response timeout: each attempt
/// has a short deadline, and an attempt that was lost or refused on the way is repeated until the cluster has
/// noticed the death and the grain answers from its new activation, within a bounded budget.
/// Never use it for calls that are not idempotent: those must fail, not run twice.</summary>
public sealed class IdempotentCalls(IOptions<CallRetryOptions> options, ILogger<IdempotentCalls> log)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(500);

    public async Task InvokeAsync(string what, Func<CancellationToken, Task> call, CancellationToken cancellationToken = default) =>
        await InvokeAsync(what, async ct =>
        {
            await call(ct);
            return true;
        }, cancellationToken);

    /// <summary>Calls <paramref name="call"/> with each attempt's deadline until it answers, throws a domain error, or
    /// the budget is spent (then <see cref="ErrorCodes.Unavailable"/>).</summary>
    public async Task<T> InvokeAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var started = Stopwatch.GetTimestamp();
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            var left = o.Budget - Stopwatch.GetElapsedTime(started);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(left < o.AttemptTimeout ? left : o.AttemptTimeout);
            try
            {
                return await call(deadline.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsLost(ex))
            {
                if (o.Budget - Stopwatch.GetElapsedTime(started) <= pause)
                {
                    log.LogWarning(ex, "{Call} got no answer in {Attempts} attempts over {Budget}", what, attempt, o.Budget);
                    throw new ImException(ErrorCodes.Unavailable, "the service did not answer in time; retry with the same id");
                }
                log.LogInformation("{Call}: attempt {Attempt} got no answer ({Error}); retrying", what, attempt, ex.GetType().Name);
                await Task.Delay(pause, cancellationToken);
                pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
            }
        }
    }

    /// <summary>The call's answer never came (deadline, Orleans timeout) or the message could not be delivered (target
    /// silo dead or unreachable): the call may or may not have run. Domain errors (<see cref="ImException"/>) are answers.</summary>
    private static bool IsLost(Exception ex) =>
        ex is OperationCanceledException or TimeoutException or OrleansMessageRejectionException or GatewayTooBusyException or ConnectionFailedException;
}
