namespace ImOrleans.Gateway.Attachments;

/// <summary>Where uploads live: files under the data directory (embedded), PostgreSQL (cluster, so any gateway serves
/// any attachment), or later an object store. Ids are made by the caller; the store never interprets the bytes.</summary>
public interface IAttachmentStore
{
    /// <summary>Creates the schema (or folder). Safe on every start, from several processes.</summary>
    Task InitializeAsync(CancellationToken ct = default);

    /// <summary>Streams <paramref name="content"/> in and records the attachment; nothing is kept if reading fails
    /// (for example <see cref="AttachmentTooLargeException"/> past the size limit).</summary>
    Task<StoredAttachment> SaveAsync(string id, string uploader, string name, string type, UploadStream content, DateTimeOffset now,
        CancellationToken ct = default);

    /// <summary>The attachment, or null when there is none with this id.</summary>
    Task<StoredAttachment?> GetAsync(string id, CancellationToken ct = default);

    /// <summary>Writes the bytes of an existing attachment to <paramref name="destination"/>.</summary>
    Task CopyToAsync(string id, Stream destination, CancellationToken ct = default);

    /// <summary>Records that a message of <paramref name="conversation"/> names the attachment. Idempotent.</summary>
    Task LinkAsync(string id, string conversation, CancellationToken ct = default);

    /// <summary>No message of <paramref name="conversation"/> names the attachment any more (retention deleted them);
    /// returns how many conversations still do.</summary>
    Task<int> UnlinkAsync(string id, string conversation, CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> attachments no message names, uploaded before <paramref name="before"/>.</summary>
    Task<IReadOnlyList<string>> ListUnreferencedAsync(DateTimeOffset before, int limit, CancellationToken ct = default);

    /// <summary>Deletes the attachment and its bytes; nothing happens if it is gone already.</summary>
    Task DeleteAsync(string id, CancellationToken ct = default);
}
