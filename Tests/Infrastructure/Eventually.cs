namespace ImOrleans.Tests.Infrastructure;

/// <summary>Waits on a condition instead of sleeping; fails with a message naming what was awaited.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {timeoutMs} ms waiting for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>As above, with <paramref name="explain"/> telling, when it times out, what was seen instead.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs, Func<string> explain)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {timeoutMs} ms waiting for: {what}; {explain()}");
            await Task.Delay(20);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out after {timeoutMs} ms waiting for: {what}");
            await Task.Delay(20);
        }
    }
}
