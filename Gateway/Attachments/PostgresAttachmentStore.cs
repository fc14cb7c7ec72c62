using ImOrleans.Models;
using Npgsql;
using NpgsqlTypes;

namespace ImOrleans.Gateway.Attachments;

/// <summary>Cluster mode: attachments in PostgreSQL, the bytes as <c>bytea</c> chunks, so every gateway serves every
/// attachment without a shared disk. An upload is one transaction: a failed or oversized one leaves nothing.</summary>
public sealed class PostgresAttachmentStore(string connectionString) : IAttachmentStore, IAsyncDisposable
{
    private const int ChunkBytes = 256 * 1024;
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(connectionString);

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Serializes the first creation when several gateways start at once; released at commit.
        await ExecAsync(conn, "SELECT pg_advisory_xact_lock(7345031);", ct);
        await ExecAsync(conn, """
            CREATE TABLE IF NOT EXISTS im_attachments (
                id            text        PRIMARY KEY,
                uploader      text        NOT NULL,
                name          text        NOT NULL,
                type          text        NOT NULL,
                size          bigint      NOT NULL,
                width         int,
                height        int,
                created_at    timestamptz NOT NULL,
                conversations text[]      NOT NULL DEFAULT '{}'
            );
            CREATE TABLE IF NOT EXISTS im_attachment_chunks (
                id   text  NOT NULL REFERENCES im_attachments (id) ON DELETE CASCADE,
                n    int   NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (id, n)
            );
            CREATE INDEX IF NOT EXISTS im_attachments_unreferenced ON im_attachments (created_at) WHERE conversations = '{}';
            """, ct);
        await tx.CommitAsync(ct);
    }

    public async Task<StoredAttachment> SaveAsync(string id, string uploader, string name, string type, UploadStream content, DateTimeOffset now,
        CancellationToken ct = default)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO im_attachments (id, uploader, name, type, size, created_at) VALUES ($1, $2, $3, $4, 0, $5);", conn, tx))
        {
            insert.Parameters.Add(new() { Value = id });
            insert.Parameters.Add(new() { Value = uploader });
            insert.Parameters.Add(new() { Value = name });
            insert.Parameters.Add(new() { Value = type });
            insert.Parameters.Add(new() { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await insert.ExecuteNonQueryAsync(ct);
        }
        var buffer = new byte[ChunkBytes];
        await using (var chunk = new NpgsqlCommand("INSERT INTO im_attachment_chunks (id, n, data) VALUES ($1, $2, $3);", conn, tx))
        {
            var (pId, pN, pData) = (new NpgsqlParameter { Value = id }, new NpgsqlParameter<int>(), new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea });
            chunk.Parameters.Add(pId);
            chunk.Parameters.Add(pN);
            chunk.Parameters.Add(pData);
            for (var n = 0; ; n++)
            {
                var filled = await content.ReadAtLeastAsync(buffer, ChunkBytes, throwOnEndOfStream: false, ct);
                if (filled == 0)
                    break;
                pN.TypedValue = n;
                pData.Value = new ArraySegment<byte>(buffer, 0, filled);
                await chunk.ExecuteNonQueryAsync(ct);
                if (filled < ChunkBytes)
                    break;
            }
        }
        var info = content.Describe(id, name, type);
        await using (var update = new NpgsqlCommand("UPDATE im_attachments SET size = $2, width = $3, height = $4 WHERE id = $1;", conn, tx))
        {
            update.Parameters.Add(new() { Value = id });
            update.Parameters.Add(new() { Value = info.Size });
            update.Parameters.Add(new() { Value = (object?)info.Width ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            update.Parameters.Add(new() { Value = (object?)info.Height ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new StoredAttachment(info, uploader, now, []);
    }

    public async Task<StoredAttachment?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand(
            "SELECT uploader, name, type, size, width, height, created_at, conversations FROM im_attachments WHERE id = $1;");
        cmd.Parameters.Add(new() { Value = id });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
            return null;
        var info = new AttachmentInfo(id, r.GetString(1), r.GetString(2), r.GetInt64(3),
            r.IsDBNull(4) ? null : r.GetInt32(4), r.IsDBNull(5) ? null : r.GetInt32(5));
        return new StoredAttachment(info, r.GetString(0), new DateTimeOffset(r.GetDateTime(6), TimeSpan.Zero), r.GetFieldValue<string[]>(7));
    }

    public async Task CopyToAsync(string id, Stream destination, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT data FROM im_attachment_chunks WHERE id = $1 ORDER BY n;");
        cmd.Parameters.Add(new() { Value = id });
        // Sequential access streams each chunk rather than buffering the row.
        await using var r = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);
        while (await r.ReadAsync(ct))
        {
            await using var chunk = await r.GetStreamAsync(0, ct);
            await chunk.CopyToAsync(destination, ct);
        }
    }

    public async Task LinkAsync(string id, string conversation, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand(
            "UPDATE im_attachments SET conversations = array_append(conversations, $2) WHERE id = $1 AND NOT ($2 = ANY (conversations));");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = conversation });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<int> UnlinkAsync(string id, string conversation, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand(
            "UPDATE im_attachments SET conversations = array_remove(conversations, $2) WHERE id = $1 RETURNING cardinality(conversations);");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = conversation });
        return await cmd.ExecuteScalarAsync(ct) is int left ? left : 0;
    }

    public async Task<IReadOnlyList<string>> ListUnreferencedAsync(DateTimeOffset before, int limit, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT id FROM im_attachments WHERE conversations = '{}' AND created_at < $1 ORDER BY created_at LIMIT $2;");
        cmd.Parameters.Add(new() { Value = before.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = limit });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var ids = new List<string>();
        while (await r.ReadAsync(ct))
            ids.Add(r.GetString(0));
        return ids;
    }

    public async Task DeleteAsync(string id, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("DELETE FROM im_attachments WHERE id = $1;");
        cmd.Parameters.Add(new() { Value = id });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();
}
