namespace ImOrleans.Gateway.Hosting;

/// <summary>How long the gateway waits on the grain calls it may repeat (sends, read marks, connection bindings), bound from
/// <c>Gateway:Retry</c>. Orleans' own response timeout (30 s) is far too long for a client waiting on its PUBACK:
/// a call that was in flight to a silo that died is never answered.</summary>
public sealed class CallRetryOptions
{
    public const string Section = "Gateway:Retry";

    /// <summary>One attempt's deadline: far above a send's normal latency (milliseconds), short enough that a call lost
    /// with a dead silo is repeated soon.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>All attempts of one call together; after it the client is told <c>unavailable</c> and retries itself.</summary>
    public TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(8);
}
