namespace ImOrleans.Grains;

/// <summary>Writes a grain's state shortly after it changes instead of on every change: the first change arms a
/// one-shot grain timer, and its tick writes everything that changed meanwhile in one write. The grain calls
/// <see cref="FlushAsync"/> on deactivation for what is still pending.</summary>
internal sealed class DeferredWrite(IGrainBase grain, Func<CancellationToken, Task> write, TimeSpan delay)
{
    private IGrainTimer? _timer;
    private bool _pending;

    /// <summary>The state changed: it is written within the delay.</summary>
    public void Changed()
    {
        _pending = true;
        _timer ??= grain.RegisterGrainTimer(TickAsync, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Nothing is pending any more (the state was cleared or written some other way).</summary>
    public void Forget() => _pending = false;

    /// <summary>Writes now, if anything is pending.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (!_pending)
            return;
        _pending = false;
        try
        {
            await write(ct);
        }
        catch
        {
            _pending = true;
            throw;
        }
    }

    private async Task TickAsync()
    {
        // Disposed first so that the next change arms a new timer. Disposing a timer cancels the token of its
        // running tick, so the write must not be given that token: it would always be cancelled.
        _timer?.Dispose();
        _timer = null;
        try
        {
            await FlushAsync(CancellationToken.None);
        }
        finally
        {
            if (_pending) // the write failed: try again after the delay
                Changed();
        }
    }
}
