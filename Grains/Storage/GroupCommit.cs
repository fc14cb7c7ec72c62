using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>Group commit: writes from many callers queue here and one loop commits whatever has gathered in a single
/// transaction, answering each caller only after that commit. Under load, batches grow by themselves; idle, a lone
/// write commits at once. When the database refuses a batch, each of its items is tried again in a transaction of its
/// own, so that one bad item (say, a duplicate key) fails alone and does not fail its neighbours.
/// <para>Used by the message stores (<see cref="GroupCommitWriter"/>) and the embedded grain-state storage.</para></summary>
/// <typeparam name="TItem">One caller's write, which always lands in one transaction.</typeparam>
/// <typeparam name="TOutcome">What the commit says about each item (e.g. the version it stored).</typeparam>
public sealed class GroupCommit<TItem, TOutcome> : IAsyncDisposable
{
    private readonly record struct Pending(TItem Item, TaskCompletionSource<TOutcome> Done);

    private readonly Channel<Pending> _queue;
    private readonly Func<IReadOnlyList<TItem>, Task<TOutcome[]>> _commit;
    private readonly Func<TItem, int> _size;
    private readonly int _maxBatch;
    private readonly Action<int, TimeSpan>? _committed;
    private readonly ILogger _log;
    private readonly Task _loop;

    /// <summary>Batches committed and the size of what they held, for metrics, tests and the benchmark.</summary>
    public BatchStats Stats { get; } = new();

    /// <param name="commit">Writes the items in one transaction and returns their outcomes in the same order; throws
    /// when the transaction failed.</param>
    /// <param name="maxBatch">About how much one transaction takes, in units of <paramref name="size"/> (an item is
    /// never split).</param>
    /// <param name="size">An item's share of a batch: 1 unless given.</param>
    /// <param name="committed">Told the size and duration of every commit that succeeded.</param>
    /// <param name="ownThread">The name of a thread of its own for the loop, for a <paramref name="commit"/> that does
    /// its work synchronously (SQLite: its async methods block in the database engine and in fsync). On the thread pool,
    /// a thread blocked in every commit made the pool add threads and retire them again, and that churn (thread
    /// starts, finalizers) cost more CPU than the writes. Null: the loop runs on the thread pool.</param>
    public GroupCommit(Func<IReadOnlyList<TItem>, Task<TOutcome[]>> commit, int maxBatch, ILogger log,
        Func<TItem, int>? size = null, Action<int, TimeSpan>? committed = null, string? ownThread = null)
    {
        _commit = commit;
        _maxBatch = maxBatch;
        _log = log;
        _size = size ?? (_ => 1);
        _committed = committed;
        // Bounded so that a stalled database pushes back on writers instead of growing memory.
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(maxBatch * 16) { SingleReader = true });
        _loop = ownThread is null ? Task.Run(RunAsync) : RunOnOwnThread(ownThread);
    }

    /// <summary>Queues <paramref name="item"/> and completes once it is committed (or with the reason it was not).
    /// After <see cref="DisposeAsync"/> it fails with <see cref="ObjectDisposedException"/>.</summary>
    public async Task<TOutcome> AddAsync(TItem item, CancellationToken ct = default)
    {
        // Answered off the writer's loop: a caller's continuation must not run on it and hold up every other write.
        var done = new TaskCompletionSource<TOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _queue.Writer.WriteAsync(new Pending(item, done), ct);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(GetType().Name, "the store is shutting down");
        }
        return await done.Task.WaitAsync(ct);
    }

    private Task RunOnOwnThread(string name)
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
        { IsBackground = true, Name = name };
        thread.Start();
        return ended.Task;
    }

    // Blocking waits on purpose: this thread does nothing else, and a synchronous commit has finished its work when
    // its task is returned, so every step stays on this thread.
    private void RunBlocking()
    {
        var batch = new List<Pending>();
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            GatherAndCommitAsync(batch, reader).GetAwaiter().GetResult();
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>();
        var reader = _queue.Reader;
        // Ends when the queue is completed and everything queued before that has been committed.
        while (await reader.WaitToReadAsync())
            await GatherAndCommitAsync(batch, reader);
    }

    /// <summary>One round of the loop, which must outlive whatever goes wrong in it: the writers queued behind would
    /// otherwise wait forever.</summary>
    private async Task GatherAndCommitAsync(List<Pending> batch, ChannelReader<Pending> reader)
    {
        try
        {
            Gather(batch, reader);
            await CommitAsync(batch);
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "The group commit failed unexpectedly; failing the {Count} writes it held", batch.Count);
            foreach (var p in batch)
                p.Done.TrySetException(ex);
        }
    }

    private void Gather(List<Pending> batch, ChannelReader<Pending> reader)
    {
        batch.Clear();
        var size = 0;
        while (size < _maxBatch && reader.TryRead(out var pending))
        {
            batch.Add(pending);
            size += _size(pending.Item);
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            var outcomes = await CommitOnceAsync(batch.ConvertAll(p => p.Item));
            for (var i = 0; i < batch.Count; i++)
                batch[i].Done.TrySetResult(outcomes[i]);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            _log.LogWarning(ex, "A batch of {Count} writes failed; retrying them one by one", batch.Count);
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
                p.Done.TrySetResult((await CommitOnceAsync([p.Item]))[0]);
            }
            catch (Exception ex)
            {
                p.Done.TrySetException(ex);
            }
        }
    }

    private async Task<TOutcome[]> CommitOnceAsync(IReadOnlyList<TItem> items)
    {
        var started = Stopwatch.GetTimestamp();
        var outcomes = await _commit(items);
        Count(items, Stopwatch.GetElapsedTime(started));
        return outcomes;
    }

    /// <summary>Counts a commit that succeeded. Never throws: a failure here would make the committed items be written
    /// again, one by one, as if the commit had failed.</summary>
    private void Count(IReadOnlyList<TItem> items, TimeSpan took)
    {
        try
        {
            var size = 0;
            foreach (var item in items)
                size += _size(item);
            Stats.Record(size);
            _committed?.Invoke(size, took);
        }
        catch (Exception ex)
        {
            _log.LogWarning(ex, "Counting a commit of {Count} writes failed", items.Count);
        }
    }

    /// <summary>Refuses new writes and waits until everything queued before has been committed.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
