using System.Diagnostics;

namespace ImOrleans.Tools.LoadGen.Results;

/// <summary>What one scenario on one server sent and what its receivers got: unique deliveries with their
/// end-to-end latency, duplicates, out-of-order arrivals, and publishes that were refused or never acknowledged.</summary>
/// <param name="copiesPerMessage">deliveries each sent message should make (1 for a pair, N for a fan-out to N)</param>
public sealed class ScenarioStats(int copiesPerMessage = 1)
{
    private readonly Lock _lock = new();
    private readonly List<double> _latencies = [];
    private long _sent, _failed, _delivered, _duplicates, _outOfOrder, _lastDelivery;
    private double _windowMax;
    private (long Target, TaskCompletionSource Reached)? _waiter;

    public long Started { get; } = Stopwatch.GetTimestamp();
    public long Sent => Interlocked.Read(ref _sent);
    public long Failed => Interlocked.Read(ref _failed);
    public long Expected => Sent * copiesPerMessage;
    public long Delivered { get { lock (_lock) return _delivered; } }
    public long Lost => Math.Max(0, Expected - Delivered);
    public long Duplicates { get { lock (_lock) return _duplicates; } }
    public long OutOfOrder { get { lock (_lock) return _outOfOrder; } }

    /// <summary>Seconds from the start to the last delivery.</summary>
    public double Seconds { get { lock (_lock) return Stopwatch.GetElapsedTime(Started, Math.Max(_lastDelivery, Started + 1)).TotalSeconds; } }

    public double[] Latencies { get { lock (_lock) return [.. _latencies]; } }

    public void OnSending() => Interlocked.Increment(ref _sent);

    /// <summary>A publish was refused (failing PUBACK) or got no PUBACK in time.</summary>
    public void OnFailed() => Interlocked.Increment(ref _failed);

    public void OnDelivered(double latencyMs, bool duplicate, bool outOfOrder)
    {
        lock (_lock)
        {
            if (duplicate)
            {
                _duplicates++;
                return;
            }
            _delivered++;
            _latencies.Add(latencyMs);
            _windowMax = Math.Max(_windowMax, latencyMs);
            _lastDelivery = Stopwatch.GetTimestamp();
            if (outOfOrder)
                _outOfOrder++;
            if (_waiter is { } w && _delivered >= w.Target)
                w.Reached.TrySetResult();
        }
    }

    /// <summary>The highest latency delivered since the last call (a fan-out's time to reach its last member).</summary>
    public double TakeWindowMax()
    {
        lock (_lock)
        {
            var max = _windowMax;
            _windowMax = 0;
            return max;
        }
    }

    /// <summary>Waits until <paramref name="deliveries"/> unique deliveries arrived; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForAsync(long deliveries, TimeSpan timeout)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_delivered >= deliveries)
                return true;
            _waiter = (deliveries, reached);
        }
        try
        {
            await reached.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            lock (_lock)
                _waiter = null;
        }
    }
}
