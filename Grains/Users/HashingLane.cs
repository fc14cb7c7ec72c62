namespace ImOrleans.Grains.Users;

/// <summary>Password hashes, a few at a time. One hash or check costs about 120 ms of CPU (PBKDF2 with 100 000
/// rounds, on the 2-core test machine): run as they came, a burst of registrations or password logins took every core
/// and thread, and with them the deliveries, pings and timers of every connection (the benchmark's own clients timed
/// out while it registered its users). In the lane, at most half the cores hash at once; the rest wait their turn,
/// off the grain's thread.</summary>
internal sealed class HashingLane(int width)
{
    /// <summary>The lane every user grain of this silo shares.</summary>
    public static HashingLane Shared { get; } = new(Math.Max(1, Environment.ProcessorCount / 2));

    private readonly SemaphoreSlim _slots = new(width, width);

    public async Task<T> RunAsync<T>(Func<T> hash)
    {
        await _slots.WaitAsync();
        try
        {
            return await Task.Run(hash);
        }
        finally
        {
            _slots.Release();
        }
    }
}
