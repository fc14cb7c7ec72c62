namespace ImOrleans.Grains.Storage;

/// <summary>Counts of committed batches and of what they held, read by metrics, tests and the benchmark.</summary>
public sealed class BatchStats
{
    private long _batches;
    private long _appends;

    public long Batches => Interlocked.Read(ref _batches);
    public long Appends => Interlocked.Read(ref _appends);

    public void Record(int size)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _appends, size);
    }
}
