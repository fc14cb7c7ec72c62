using System.Threading.Channels;
using ImOrleans.Models;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>Group commit: appends from many conversations queue here and one loop writes whatever
/// has gathered in a single transaction, answering each caller only after that commit.
/// Under load, batches grow by themselves; idle, a lone append commits at once. An append is a unit of one or more
/// messages that always lands in one transaction.</summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly record struct Pending(IReadOnlyList<MessageRecord> Messages, TaskCompletionSource Done);

    private readonly Channel<Pending> _queue;
    private readonly Func<IReadOnlyList<MessageRecord>, CancellationToken, Task> _writeBatch;
    private readonly int _maxBatch;
    private readonly ILogger _log;
    private readonly Task _loop;

    /// <summary>Sizes of the batches written so far (for the store metrics and the benchmark).</summary>
    public BatchStats Stats { get; } = new();

    /// <param name="synchronousWriter">The batch writer does its work synchronously (SQLite: its async methods block
    /// in the database engine and in fsync). The loop then runs on a thread of its own: on the thread pool, a thread
    /// blocked in every commit made the pool add threads and retire them again, and that churn (thread starts,
    /// finalizers) cost more CPU than the writes.</param>
    public GroupCommitWriter(Func<IReadOnlyList<MessageRecord>, CancellationToken, Task> writeBatch, int maxBatch, ILogger log,
        bool synchronousWriter = false)
    {
        _writeBatch = writeBatch;
        _maxBatch = maxBatch;
        _log = log;
        // Bounded so that a stalled database pushes back on senders instead of growing memory.
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(maxBatch * 16) { SingleReader = true });
        _loop = synchronousWriter ? RunOnOwnThread() : Task.Run(RunAsync);
    }

    private Task RunOnOwnThread()
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                RunBlocking();
                ended.SetResult();
            }
            catch (Exception ex)
            {
                ended.SetException(ex);
            }
        })
        { IsBackground = true, Name = "message store writer" };
        thread.Start();
        return ended.Task;
    }

    public async Task AppendAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new Pending(messages, done), ct);
        await done.Task.WaitAsync(ct);
    }

    // Blocking waits on purpose: this thread does nothing else, and a synchronous writer has finished each batch
    // when its task is returned, so every step stays on this thread.
    private void RunBlocking()
    {
        var batch = new List<Pending>(_maxBatch);
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            Gather(batch, reader);
            CommitAsync(batch).GetAwaiter().GetResult();
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        var reader = _queue.Reader;
        // Ends when the writer is completed and everything queued before that has been committed.
        while (await reader.WaitToReadAsync())
        {
            Gather(batch, reader);
            await CommitAsync(batch);
        }
    }

    /// <summary>Takes what is queued, up to about <c>maxBatch</c> messages (a unit is never split).</summary>
    private void Gather(List<Pending> batch, ChannelReader<Pending> reader)
    {
        batch.Clear();
        var messages = 0;
        while (messages < _maxBatch && reader.TryRead(out var item))
        {
            batch.Add(item);
            messages += item.Messages.Count;
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var messages = batch.Count == 1 ? batch[0].Messages : batch.SelectMany(p => p.Messages).ToList();
            await _writeBatch(messages, CancellationToken.None);
            StoreMetrics.CommitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            StoreMetrics.BatchSize.Record(messages.Count);
            StoreMetrics.MessagesStored.Add(messages.Count);
            Stats.Record(messages.Count);
            foreach (var p in batch)
                p.Done.TrySetResult();
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One bad row (say, a duplicate key) must not fail its neighbours: retry the appends one by one.
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
                await _writeBatch(p.Messages, CancellationToken.None);
                StoreMetrics.MessagesStored.Add(p.Messages.Count);
                Stats.Record(p.Messages.Count);
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
