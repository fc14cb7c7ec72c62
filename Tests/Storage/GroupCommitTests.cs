using ImOrleans.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ImOrleans.Tests.Storage;

/// <summary>The group commit shared by the message stores and the grain-state storage, with a commit function that
/// holds its first batch until released, so that the writes after it gather into one batch.</summary>
[TestClass]
public sealed class GroupCommitTests
{
    /// <summary>The item the database refuses, with any batch that holds it.</summary>
    private const int Refused = -1;

    private sealed class GatedCommit
    {
        public readonly TaskCompletionSource FirstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly List<int> BatchSizes = [];

        public async Task<string[]> CommitAsync(IReadOnlyList<int> items)
        {
            lock (BatchSizes)
                BatchSizes.Add(items.Count);
            FirstStarted.TrySetResult();
            await Release.Task;
            if (items.Contains(Refused))
                throw new InvalidOperationException("the database refuses the batch");
            return [.. items.Select(i => $"stored {i}")];
        }
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("test writer")]
    public async Task WritesQueuedMeanwhileShareOneCommitAndEachGetsItsOwnOutcome(string? ownThread)
    {
        var gate = new GatedCommit();
        await using var commit = new GroupCommit<int, string>(gate.CommitAsync, maxBatch: 100, NullLogger.Instance, ownThread: ownThread);
        var first = commit.AddAsync(0);
        await gate.FirstStarted.Task;
        var rest = Enumerable.Range(1, 20).Select(i => commit.AddAsync(i)).ToList();
        gate.Release.SetResult();

        Assert.AreEqual("stored 0", await first);
        CollectionAssert.AreEqual(Enumerable.Range(1, 20).Select(i => $"stored {i}").ToList(), await Task.WhenAll(rest));
        CollectionAssert.AreEqual(new[] { 1, 20 }, gate.BatchSizes, "the twenty writes queued during the first commit took one");
        Assert.AreEqual((2L, 21L), (commit.Stats.Batches, commit.Stats.Appends));
    }

    [TestMethod]
    public async Task AnItemTheDatabaseRefusesFailsAloneAndItsNeighboursAreStored()
    {
        var gate = new GatedCommit();
        await using var commit = new GroupCommit<int, string>(gate.CommitAsync, maxBatch: 100, NullLogger.Instance);
        var first = commit.AddAsync(0);
        await gate.FirstStarted.Task;
        int[] items = [10, 11, 12, Refused, 14, 15];
        var rest = items.Select(i => commit.AddAsync(i)).ToList();
        gate.Release.SetResult();
        await first;

        for (var i = 0; i < items.Length; i++)
        {
            if (items[i] == Refused)
                await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => rest[i]);
            else
                Assert.AreEqual($"stored {items[i]}", await rest[i]);
        }
        CollectionAssert.AreEqual(new[] { 1, 6, 1, 1, 1, 1, 1, 1 }, gate.BatchSizes, "the refused batch, then each of its items alone");
    }

    [TestMethod]
    public async Task BatchesAreCutAtTheirSizeWithoutSplittingAnItem()
    {
        var gate = new GatedCommit();
        var commit = new GroupCommit<int, string>(gate.CommitAsync, maxBatch: 10, NullLogger.Instance, size: i => i);
        var first = commit.AddAsync(1);
        await gate.FirstStarted.Task;
        var rest = new[] { 4, 4, 4, 4 }.Select(i => commit.AddAsync(i)).ToList();
        gate.Release.SetResult();
        await Task.WhenAll([first, .. rest]);
        await commit.DisposeAsync();

        // 4 + 4 is under 10, so a third item joins; the fourth starts the next batch.
        CollectionAssert.AreEqual(new[] { 1, 3, 1 }, gate.BatchSizes);
    }

    [TestMethod]
    public async Task DisposingCommitsWhatIsQueuedAndRefusesWhatComesAfter()
    {
        var gate = new GatedCommit();
        var commit = new GroupCommit<int, string>(gate.CommitAsync, maxBatch: 100, NullLogger.Instance, ownThread: "test writer");
        var first = commit.AddAsync(0);
        await gate.FirstStarted.Task;
        var queued = commit.AddAsync(1);
        var disposed = commit.DisposeAsync().AsTask();
        Assert.IsFalse(disposed.IsCompleted, "disposing waits for the commit under way");
        gate.Release.SetResult();
        await disposed;

        Assert.AreEqual(("stored 0", "stored 1"), (await first, await queued));
        await Assert.ThrowsExactlyAsync<ObjectDisposedException>(() => commit.AddAsync(2));
    }
}
