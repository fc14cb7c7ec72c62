using System.Threading.Channels;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>Group commit: appends from many conversations queue here and one loop writes whatever
/// has gathered in a single transaction, answering each caller only after that commit.
/// Under load, batches grow by themselves; idle, a lone append commits at once.</summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly record struct Pending(MessageRecord Message, TaskCompletionSource Done);

    private readonly Channel<Pending> _queue;
    private readonly Func<IReadOnlyList<MessageRecord>, CancellationToken, Task> _writeBatch;
    private readonly int _maxBatch;
    private readonly ILogger _log;
    private readonly Task _loop;

    /// <summary>Sizes of the batches written so far (for the store metrics and the benchmark).</summary>
    public BatchStats Stats { get; } = new();

    public GroupCommitWriter(Func<IReadOnlyList<MessageRecord>, CancellationToken, Task> writeBatch, int maxBatch, ILogger log)
    {
        _writeBatch = writeBatch;
        _maxBatch = maxBatch;
        _log = log;
        // Bounded so that a stalled database pushes back on senders instead of growing memory.
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(maxBatch * 16) { SingleReader = true });
        _loop = Task.Run(RunAsync);
    }

    public async Task AppendAsync(MessageRecord message, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Pending(message, done), ct);
        await done.Task.WaitAsync(ct);
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        var reader = _queue.Reader;
        // Ends when the writer is completed and everything queued before that has been committed.
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var item))
                batch.Add(item);
            await CommitAsync(batch);
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await _writeBatch(batch.Select(p => p.Message).ToList(), CancellationToken.None);
            StoreMetrics.CommitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            StoreMetrics.BatchSize.Record(batch.Count);
            StoreMetrics.MessagesStored.Add(batch.Count);
            Stats.Record(batch.Count);
            foreach (var p in batch)
                p.Done.TrySetResult();
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One bad row (say, a duplicate key) must not fail its neighbours: retry them one by one.
            _log.LogWarning(ex, "Batch of {Count} appends failed; retrying one by one", batch.Count);
        }
        catch (Exception ex)
        {
            batch[0].Done.TrySetException(ex);
            return;
        }

        foreach (var p in batch)
        {
            try
            {
                await _writeBatch([p.Message], CancellationToken.None);
                StoreMetrics.MessagesStored.Add(1);
                Stats.Record(1);
                p.Done.TrySetResult();
            }
            catch (Exception ex)
            {
                p.Done.TrySetException(ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}

/// <summary>Counts of batches and appends, read by metrics and the benchmark.</summary>
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
