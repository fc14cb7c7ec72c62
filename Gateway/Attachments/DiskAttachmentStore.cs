using System.Text.Json;

namespace ImOrleans.Gateway.Attachments;

/// <summary>The embedded default: each attachment is two files in one folder, its bytes (<c>{id}</c>) and what is
/// known of it (<c>{id}.json</c>, written last, so an attachment exists once its JSON does). One process owns the folder.</summary>
public sealed class DiskAttachmentStore(string folder) : IAttachmentStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Links rewrite the JSON file: one writer at a time in this process.
    private readonly SemaphoreSlim _write = new(1, 1);

    public Task InitializeAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(folder);
        return Task.CompletedTask;
    }

    public async Task<StoredAttachment> SaveAsync(string id, string uploader, string name, string type, UploadStream content, DateTimeOffset now,
        CancellationToken ct = default)
    {
        var part = ContentPath(id) + ".part";
        try
        {
            await using (var file = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                await content.CopyToAsync(file, ct);
            File.Move(part, ContentPath(id));
        }
        catch
        {
            File.Delete(part);
            throw;
        }
        var stored = new StoredAttachment(content.Describe(id, name, type), uploader, now, []);
        await WriteAsync(stored, ct);
        return stored;
    }

    public async Task<StoredAttachment?> GetAsync(string id, CancellationToken ct = default)
    {
        try
        {
            await using var file = File.OpenRead(MetaPath(id));
            return await JsonSerializer.DeserializeAsync<StoredAttachment>(file, Json, ct);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public async Task CopyToAsync(string id, Stream destination, CancellationToken ct = default)
    {
        await using var file = new FileStream(ContentPath(id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
        await file.CopyToAsync(destination, ct);
    }

    public async Task LinkAsync(string id, string conversation, CancellationToken ct = default)
    {
        await _write.WaitAsync(ct);
        try
        {
            var stored = await GetAsync(id, ct) ?? throw new InvalidOperationException($"no attachment '{id}'");
            if (!stored.Conversations.Contains(conversation))
                await WriteAsync(stored with { Conversations = [.. stored.Conversations, conversation] }, ct);
        }
        finally
        {
            _write.Release();
        }
    }

    public async Task<int> UnlinkAsync(string id, string conversation, CancellationToken ct = default)
    {
        await _write.WaitAsync(ct);
        try
        {
            if (await GetAsync(id, ct) is not { } stored)
                return 0;
            var left = stored.Conversations.Where(c => c != conversation).ToList();
            if (left.Count != stored.Conversations.Count)
                await WriteAsync(stored with { Conversations = left }, ct);
            return left.Count;
        }
        finally
        {
            _write.Release();
        }
    }

    // A scan of the folder: fine for one machine's uploads, and it runs every few minutes, off the request path.
    public async Task<IReadOnlyList<string>> ListUnreferencedAsync(DateTimeOffset before, int limit, CancellationToken ct = default)
    {
        var found = new List<string>();
        foreach (var meta in Directory.EnumerateFiles(folder, "*.json"))
        {
            if (found.Count >= limit)
                break;
            if (await GetAsync(Path.GetFileNameWithoutExtension(meta), ct) is { Conversations.Count: 0 } a && a.CreatedAt < before)
                found.Add(a.Info.Id);
        }
        return found;
    }

    public async Task DeleteAsync(string id, CancellationToken ct = default)
    {
        await _write.WaitAsync(ct);
        try
        {
            File.Delete(MetaPath(id));
            File.Delete(ContentPath(id));
        }
        finally
        {
            _write.Release();
        }
    }

    private async Task WriteAsync(StoredAttachment stored, CancellationToken ct)
    {
        var temp = MetaPath(stored.Info.Id) + ".tmp";
        await using (var file = File.Create(temp))
            await JsonSerializer.SerializeAsync(file, stored, Json, ct);
        File.Move(temp, MetaPath(stored.Info.Id), overwrite: true);
    }

    // Ids are checked (AttachmentIds.IsValid) before they get here, so they never name another path.
    private string ContentPath(string id) => Path.Combine(folder, id);
    private string MetaPath(string id) => Path.Combine(folder, id + ".json");
}
