using System.Collections.Concurrent;
using ImOrleans.Grains.Storage;
using ImOrleans.Models;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>The real message store of the grain-test cluster, with faults a test can arm per conversation: the next
/// append commits and then throws, as when the reply to a COMMIT is lost and the writer cannot know it succeeded; the
/// next read throws.</summary>
public sealed class FaultyMessageStore(IMessageStore inner) : IMessageStore
{
    private static readonly ConcurrentDictionary<string, bool> CommitThenThrow = new();
    private static readonly ConcurrentDictionary<string, bool> ReadThrows = new();

    /// <summary>The next append to <paramref name="conversation"/> is stored, and then reported as failed.</summary>
    public static void FailNextAppendAfterCommit(string conversation) => CommitThenThrow[conversation] = true;

    /// <summary>The next read of <paramref name="conversation"/>'s messages fails, as when the database is briefly unreachable.</summary>
    public static void FailNextRead(string conversation) => ReadThrows[conversation] = true;

    public BatchStats Stats => inner.Stats;

    public async Task AppendAllAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct = default)
    {
        await inner.AppendAllAsync(messages, ct);
        if (CommitThenThrow.TryRemove(messages[0].Conversation, out _))
            throw new IOException($"connection lost after committing {messages[0].Conversation}#{messages[0].Seq}-{messages[^1].Seq} (injected by the test)");
    }

    public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);

    public Task<long> GetLastSeqAsync(string conversation, CancellationToken ct = default) => inner.GetLastSeqAsync(conversation, ct);

    public Task<IReadOnlyList<MessageRecord>> ReadAfterAsync(string conversation, long afterSeq, int limit, CancellationToken ct = default) =>
        ReadThrows.TryRemove(conversation, out _)
            ? throw new IOException($"the store is unreachable reading {conversation} (injected by the test)")
            : inner.ReadAfterAsync(conversation, afterSeq, limit, ct);

    public Task<IReadOnlyList<MessageRecord>> ReadBeforeAsync(string conversation, long beforeSeq, int limit, CancellationToken ct = default) =>
        inner.ReadBeforeAsync(conversation, beforeSeq, limit, ct);

    public Task RewriteAsync(string conversation, long seq, string body, IReadOnlyList<string>? mentions, DateTimeOffset? editedAt,
        bool deleted, CancellationToken ct = default) => inner.RewriteAsync(conversation, seq, body, mentions, editedAt, deleted, ct);

    public Task SetReactionsAsync(string conversation, long seq, IReadOnlyDictionary<string, IReadOnlyList<string>>? reactions,
        CancellationToken ct = default) => inner.SetReactionsAsync(conversation, seq, reactions, ct);

    public Task<int> EraseSenderAsync(string conversation, string sender, CancellationToken ct = default) =>
        inner.EraseSenderAsync(conversation, sender, ct);

    public Task<IReadOnlyList<MessageRecord>> SearchAsync(string conversation, string text, long beforeSeq, int limit, CancellationToken ct = default) =>
        inner.SearchAsync(conversation, text, beforeSeq, limit, ct);

    public Task<long> GetHeadPositionAsync(CancellationToken ct = default) => inner.GetHeadPositionAsync(ct);

    public Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(long afterPosition, int limit, string? conversation = null, CancellationToken ct = default) =>
        inner.ReadFeedAsync(afterPosition, limit, conversation, ct);

    public Task SetRetentionAsync(string conversation, int? days, CancellationToken ct = default) => inner.SetRetentionAsync(conversation, days, ct);

    public Task<RetentionRun> DeleteExpiredAsync(DateTimeOffset now, int defaultDays, CancellationToken ct = default) =>
        inner.DeleteExpiredAsync(now, defaultDays, ct);

    public Task<bool> NamesAttachmentAsync(string conversation, string attachmentId, CancellationToken ct = default) =>
        inner.NamesAttachmentAsync(conversation, attachmentId, ct);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
