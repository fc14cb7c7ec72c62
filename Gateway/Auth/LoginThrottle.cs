using System.Threading.RateLimiting;

namespace ImOrleans.Gateway.Auth;

/// <summary>Limits password checks per user name (MQTT CONNECT and the token endpoint): each costs a slow hash,
/// and unlimited guessing would both burn CPU and try passwords at speed. Tokens are not limited.</summary>
public sealed class LoginThrottle : IDisposable
{
    // 10 attempts at once, then one every 6 seconds, per user name.
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(user =>
        RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 10,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(6),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <summary>False when this user name has had too many password attempts lately.</summary>
    public bool TryAttempt(string user)
    {
        using var lease = _limiter.AttemptAcquire(user);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
