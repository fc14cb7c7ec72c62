using ImOrleans.Models;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>The message log's group commit (<see cref="GroupCommit{TItem,TOutcome}"/>): appends from many
/// conversations share transactions. An append is a unit of one or more messages that always lands in one
/// transaction; batches are counted in messages.</summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private readonly GroupCommit<IReadOnlyList<MessageRecord>, bool> _commit;

    /// <param name="writeBatch">Writes the messages in one transaction.</param>
    /// <param name="synchronousWriter">The batch writer does its work synchronously (SQLite): the loop gets a thread
    /// of its own (see <see cref="GroupCommit{TItem,TOutcome}"/>).</param>
    public GroupCommitWriter(Func<IReadOnlyList<MessageRecord>, CancellationToken, Task> writeBatch, int maxBatch, ILogger log,
        bool synchronousWriter = false)
    {
        _commit = new(async appends =>
        {
            await writeBatch(appends.Count == 1 ? appends[0] : appends.SelectMany(a => a).ToList(), CancellationToken.None);
            return new bool[appends.Count]; // an append has no outcome of its own: committed, all of it is stored
        }, maxBatch, log, size: messages => messages.Count, committed: Record,
            ownThread: synchronousWriter ? "message store writer" : null);
    }

    /// <summary>Sizes of the batches written so far, in messages.</summary>
    public BatchStats Stats => _commit.Stats;

    public Task AppendAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct) => _commit.AddAsync(messages, ct);

    private static void Record(int messages, TimeSpan took)
    {
        StoreMetrics.CommitDuration.Record(took.TotalMilliseconds);
        StoreMetrics.BatchSize.Record(messages);
        StoreMetrics.MessagesStored.Add(messages);
    }

    public ValueTask DisposeAsync() => _commit.DisposeAsync();
}
