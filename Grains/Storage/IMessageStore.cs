using ImOrleans.Models;

namespace ImOrleans.Grains.Storage;

/// <summary>One message with its position in the store-wide feed (the order of commits on one store).</summary>
public sealed record FeedEntry(long Position, MessageRecord Message);

/// <summary>An attachment named by a message that retention deleted.</summary>
public sealed record ExpiredAttachment(string Conversation, string AttachmentId);

/// <summary>What one retention run removed: messages deleted (or, the newest of a conversation, emptied) and the
/// attachments they named.</summary>
public sealed record RetentionRun(int Messages, IReadOnlyList<ExpiredAttachment> Attachments);

/// <summary>The append-only message log, keyed (conversation, seq). History, offline delivery and
/// multi-device sync all read it. Entries are never reordered; a message row is updated only to fold an entry onto it
/// (the latest text after an edit, a tombstone after a delete or erasure, its reactions), so that the text it had before
/// is no longer stored; only retention (<see cref="DeleteExpiredAsync"/>) removes messages.</summary>
public interface IMessageStore : IAsyncDisposable
{
    /// <summary>Counts of group-commit batches, for metrics and the benchmark.</summary>
    BatchStats Stats { get; }

    /// <summary>Creates or migrates the schema. Safe to call on every start, from several processes.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>Appends one message; completes only once it is committed. Fails if (conversation, seq) exists.</summary>
    Task AppendAsync(MessageRecord message, CancellationToken ct = default) => AppendAllAsync([message], ct);

    /// <summary>Appends messages in one transaction, all or none (a batch of one sender's messages must leave no gap in
    /// its conversation's seqs); completes only once they are committed. Fails if any (conversation, seq) exists.</summary>
    Task AppendAllAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct = default);

    /// <summary>The highest seq stored for a conversation, 0 when it has none.</summary>
    Task<long> GetLastSeqAsync(string conversation, CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> messages with seq &gt; <paramref name="afterSeq"/>, oldest first.</summary>
    Task<IReadOnlyList<MessageRecord>> ReadAfterAsync(string conversation, long afterSeq, int limit, CancellationToken ct = default);

    /// <summary>The <paramref name="limit"/> newest messages with seq &lt; <paramref name="beforeSeq"/>, returned oldest first.</summary>
    Task<IReadOnlyList<MessageRecord>> ReadBeforeAsync(string conversation, long beforeSeq, int limit, CancellationToken ct = default);

    /// <summary>Overwrites message <paramref name="seq"/> and every edit entry that targets it: the latest text and
    /// mentions after an edit (<paramref name="editedAt"/> set on the message), or a tombstone (<paramref name="deleted"/>:
    /// empty body, no mentions, no reactions).</summary>
    Task RewriteAsync(string conversation, long seq, string body, IReadOnlyList<string>? mentions, DateTimeOffset? editedAt,
        bool deleted, CancellationToken ct = default);

    /// <summary>Replaces the reactions of message <paramref name="seq"/>.</summary>
    Task SetReactionsAsync(string conversation, long seq, IReadOnlyDictionary<string, IReadOnlyList<string>>? reactions,
        CancellationToken ct = default);

    /// <summary>Makes every message and edit entry of <paramref name="sender"/> in a conversation a tombstone; returns how many rows changed.</summary>
    Task<int> EraseSenderAsync(string conversation, string sender, CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> messages (not deleted, not other entries) of a conversation with seq &lt;
    /// <paramref name="beforeSeq"/> whose text holds every word of <paramref name="text"/>, newest first.</summary>
    Task<IReadOnlyList<MessageRecord>> SearchAsync(string conversation, string text, long beforeSeq, int limit, CancellationToken ct = default);

    /// <summary>The highest feed position so far, 0 when the store is empty.</summary>
    Task<long> GetHeadPositionAsync(CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> messages of all conversations (or one) after a feed position, in position order.</summary>
    Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(long afterPosition, int limit, string? conversation = null, CancellationToken ct = default);

    /// <summary>Keeps a conversation's messages <paramref name="days"/> days (null: as long as the server-wide setting says).</summary>
    Task SetRetentionAsync(string conversation, int? days, CancellationToken ct = default);

    /// <summary>Deletes every message older than its conversation's retention (or <paramref name="defaultDays"/>, 0 = forever)
    /// at <paramref name="now"/>. The newest message of a conversation is emptied (body and attachments) instead of
    /// deleted: its seq is where the conversation's numbering goes on.</summary>
    Task<RetentionRun> DeleteExpiredAsync(DateTimeOffset now, int defaultDays, CancellationToken ct = default);

    /// <summary>Whether a message of <paramref name="conversation"/> still names the attachment.</summary>
    Task<bool> NamesAttachmentAsync(string conversation, string attachmentId, CancellationToken ct = default);
}
