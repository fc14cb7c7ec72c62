namespace ImOrleans.Grains.Push;

/// <summary>One provider's OAuth-style access token: fetched once, shared by all sends until shortly before it
/// expires, and fetched again at once when the service says it is no longer valid.</summary>
internal sealed class AccessTokenCache(TimeProvider time)
{
    /// <summary>A token is renewed this long before the expiry the service gave.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset RenewAt)? _current;

    /// <summary>Fetches made so far (tests check reuse with it).</summary>
    public int Fetches { get; private set; }

    public async Task<string> GetAsync(Func<CancellationToken, Task<(string Token, TimeSpan Lifetime)>> fetch, CancellationToken ct)
    {
        if (_current is { } c && time.GetUtcNow() < c.RenewAt)
            return c.Token;
        await _gate.WaitAsync(ct);
        try
        {
            if (_current is { } again && time.GetUtcNow() < again.RenewAt)
                return again.Token;
            var (token, lifetime) = await fetch(ct);
            Fetches++;
            var keep = lifetime > Margin * 2 ? lifetime - Margin : lifetime / 2;
            _current = (token, time.GetUtcNow() + keep);
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The service refused <paramref name="token"/>: the next send fetches a new one (unless another send already did).</summary>
    public void Invalidate(string token)
    {
        if (_current is { } c && c.Token == token)
            _current = null;
    }
}
