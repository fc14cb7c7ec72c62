using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace ImOrleans.Gateway.Auth;

/// <summary>Limits password checks (MQTT CONNECT and the token endpoint): each costs a slow hash, and unlimited
/// guessing would both burn CPU and try passwords at speed. Per user name, so one account cannot be guessed at
/// speed; and per source address on failures, since every new name (even an unknown one: its check hashes
/// too) would otherwise start with a fresh allowance. Tokens are not limited.</summary>
public sealed class LoginThrottle : IDisposable
{
    // 10 attempts at once, then one every 6 seconds, per user name.
    private readonly PartitionedRateLimiter<string> _perUser = PartitionedRateLimiter.Create<string, string>(user =>
        RateLimitPartition.GetTokenBucketLimiter(user, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 10,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(6),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    private readonly PartitionedRateLimiter<IPAddress> _failuresPerAddress;

    public LoginThrottle(IOptions<AuthOptions> options)
    {
        var perMinute = options.Value.FailedLoginsPerMinute;
        _failuresPerAddress = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
            RateLimitPartition.GetTokenBucketLimiter(address, _ => PerMinute(perMinute)));
    }

    /// <summary>A bucket of <paramref name="perMinute"/> that refills one at a time over a minute.</summary>
    internal static TokenBucketRateLimiterOptions PerMinute(int perMinute) => new()
    {
        TokenLimit = perMinute,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromMinutes(1) / perMinute,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>False when this user name has had too many password attempts lately, or its source address too
    /// many failed ones; the password is then not checked.</summary>
    public bool TryAttempt(string user, IPAddress? address)
    {
        if (_failuresPerAddress.GetStatistics(SourceAddress.Of(address)) is { CurrentAvailablePermits: <= 0 })
            return false;
        using var lease = _perUser.AttemptAcquire(user);
        return lease.IsAcquired;
    }

    /// <summary>A password check from <paramref name="address"/> failed: it uses up one of the address's failures.</summary>
    public void Failed(IPAddress? address) => _failuresPerAddress.AttemptAcquire(SourceAddress.Of(address)).Dispose();

    public void Dispose()
    {
        _perUser.Dispose();
        _failuresPerAddress.Dispose();
    }
}
