using ImOrleans.Models;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>The embedded message log: one SQLite file in WAL mode. One writer (the group-commit loop)
/// and any number of pooled readers, which WAL lets run while a commit is in progress.</summary>
public sealed class SqliteMessageStore : IMessageStore, IAsyncDisposable
{
    private const string Columns = "conversation_id, seq, client_id, sender, device, body, created_at, attachments";

    // Each entry is one schema version; new versions are appended, never edited.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE messages (
            position        INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT    NOT NULL,
            seq             INTEGER NOT NULL,
            client_id       TEXT    NOT NULL,
            sender          TEXT    NOT NULL,
            device          TEXT    NOT NULL,
            body            TEXT    NOT NULL,
            created_at      INTEGER NOT NULL,
            UNIQUE (conversation_id, seq)
        );
        """,
        // Attachment descriptors of a message as JSON (AttachmentsJson), null for none.
        "ALTER TABLE messages ADD COLUMN attachments TEXT;",
        // Retention: per-conversation settings, and messages found by age.
        """
        CREATE TABLE conversation_retention (conversation_id TEXT PRIMARY KEY, days INTEGER NOT NULL);
        CREATE INDEX messages_created ON messages (created_at);
        """,
    ];

    private const int RetentionBatch = 1000;

    private readonly string _connectionString;
    private readonly GroupCommitWriter _writer;
    private SqliteConnection? _writeConnection;

    public SqliteMessageStore(string path, int maxBatch, ILogger<SqliteMessageStore> log)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new GroupCommitWriter(WriteBatchAsync, maxBatch, log);
    }

    public BatchStats Stats => _writer.Stats;

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        // WAL survives in the file; synchronous=FULL makes each commit reach the disk before callers are answered.
        await ExecAsync(conn, "PRAGMA journal_mode=WAL;", ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        await ExecAsync(conn, "CREATE TABLE IF NOT EXISTS store_schema (version INTEGER NOT NULL);", ct);
        await using var get = conn.CreateCommand();
        get.CommandText = "SELECT COALESCE(MAX(version), 0) FROM store_schema;";
        var version = Convert.ToInt32(await get.ExecuteScalarAsync(ct));
        for (var v = version; v < Migrations.Length; v++)
        {
            await ExecAsync(conn, Migrations[v], ct);
            await ExecAsync(conn, $"INSERT INTO store_schema (version) VALUES ({v + 1});", ct);
        }
        await tx.CommitAsync(ct);
    }

    public Task AppendAsync(MessageRecord message, CancellationToken ct = default) => _writer.AppendAsync(message, ct);

    private async Task WriteBatchAsync(IReadOnlyList<MessageRecord> batch, CancellationToken ct)
    {
        _writeConnection ??= await OpenAsync(ct);
        await using var tx = _writeConnection.BeginTransaction();
        await using var cmd = _writeConnection.CreateCommand();
        cmd.CommandText = $"INSERT INTO messages ({Columns}) VALUES ($c, $s, $i, $f, $d, $b, $t, $a);";
        var p = new[]
        {
            cmd.Parameters.Add("$c", SqliteType.Text), cmd.Parameters.Add("$s", SqliteType.Integer),
            cmd.Parameters.Add("$i", SqliteType.Text), cmd.Parameters.Add("$f", SqliteType.Text),
            cmd.Parameters.Add("$d", SqliteType.Text), cmd.Parameters.Add("$b", SqliteType.Text),
            cmd.Parameters.Add("$t", SqliteType.Integer), cmd.Parameters.Add("$a", SqliteType.Text),
        };
        foreach (var m in batch)
        {
            p[0].Value = m.Conversation;
            p[1].Value = m.Seq;
            p[2].Value = m.Id;
            p[3].Value = m.From;
            p[4].Value = m.Device;
            p[5].Value = m.Body;
            p[6].Value = m.Timestamp.ToUnixTimeMilliseconds();
            p[7].Value = (object?)AttachmentsJson.Write(m.Attachments) ?? DBNull.Value;
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<long> GetLastSeqAsync(string conversation, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT seq FROM messages WHERE conversation_id = $c ORDER BY seq DESC LIMIT 1;";
        cmd.Parameters.AddWithValue("$c", conversation);
        return await cmd.ExecuteScalarAsync(ct) is long seq ? seq : 0;
    }

    public async Task<IReadOnlyList<MessageRecord>> ReadAfterAsync(string conversation, long afterSeq, int limit, CancellationToken ct = default)
    {
        var rows = await QueryAsync(
            $"SELECT position, {Columns} FROM messages WHERE conversation_id = $c AND seq > $s ORDER BY seq LIMIT $n;",
            [("$c", conversation), ("$s", afterSeq), ("$n", limit)], ct);
        return rows.Select(r => r.Message).ToList();
    }

    public async Task<IReadOnlyList<MessageRecord>> ReadBeforeAsync(string conversation, long beforeSeq, int limit, CancellationToken ct = default)
    {
        var rows = await QueryAsync(
            $"SELECT position, {Columns} FROM messages WHERE conversation_id = $c AND seq < $s ORDER BY seq DESC LIMIT $n;",
            [("$c", conversation), ("$s", beforeSeq), ("$n", limit)], ct);
        return rows.Select(r => r.Message).Reverse().ToList();
    }

    public async Task<long> GetHeadPositionAsync(CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COALESCE(MAX(position), 0) FROM messages;";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(long afterPosition, int limit, string? conversation = null, CancellationToken ct = default) =>
        conversation is null
            ? QueryAsync($"SELECT position, {Columns} FROM messages WHERE position > $p ORDER BY position LIMIT $n;",
                [("$p", afterPosition), ("$n", limit)], ct)
            : QueryAsync($"SELECT position, {Columns} FROM messages WHERE conversation_id = $c AND position > $p ORDER BY position LIMIT $n;",
                [("$c", conversation), ("$p", afterPosition), ("$n", limit)], ct);

    public async Task SetRetentionAsync(string conversation, int? days, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = days is null
            ? "DELETE FROM conversation_retention WHERE conversation_id = $c;"
            : "INSERT INTO conversation_retention (conversation_id, days) VALUES ($c, $d) ON CONFLICT (conversation_id) DO UPDATE SET days = excluded.days;";
        cmd.Parameters.AddWithValue("$c", conversation);
        cmd.Parameters.AddWithValue("$d", (object?)days ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<RetentionRun> DeleteExpiredAsync(DateTimeOffset now, int defaultDays, CancellationToken ct = default)
    {
        var (count, attachments) = (0, new List<ExpiredAttachment>());
        await using var conn = await OpenAsync(ct);
        while (true)
        {
            // A batch per transaction, so that sends (the group-commit writer) wait for at most one batch.
            await using var tx = conn.BeginTransaction(deferred: false);
            var expired = new List<(string Conv, long Seq, string? Attachments, bool Last)>();
            await using (var find = conn.CreateCommand())
            {
                find.CommandText = """
                    SELECT m.conversation_id, m.seq, m.attachments,
                           m.seq = (SELECT MAX(x.seq) FROM messages x WHERE x.conversation_id = m.conversation_id) AS last
                    FROM messages m LEFT JOIN conversation_retention r ON r.conversation_id = m.conversation_id
                    WHERE COALESCE(r.days, $d) > 0 AND m.created_at < $now - COALESCE(r.days, $d) * 86400000
                      AND NOT (m.body = '' AND m.attachments IS NULL
                               AND m.seq = (SELECT MAX(x.seq) FROM messages x WHERE x.conversation_id = m.conversation_id))
                    LIMIT $n;
                    """;
                find.Parameters.AddWithValue("$d", defaultDays);
                find.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                find.Parameters.AddWithValue("$n", RetentionBatch);
                await using var r = await find.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                    expired.Add((r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt64(3) == 1));
            }
            await using (var change = conn.CreateCommand())
            {
                var (c, q) = (change.Parameters.Add("$c", SqliteType.Text), change.Parameters.Add("$s", SqliteType.Integer));
                foreach (var e in expired)
                {
                    change.CommandText = e.Last
                        ? "UPDATE messages SET body = '', attachments = NULL WHERE conversation_id = $c AND seq = $s;"
                        : "DELETE FROM messages WHERE conversation_id = $c AND seq = $s;";
                    (c.Value, q.Value) = (e.Conv, e.Seq);
                    await change.ExecuteNonQueryAsync(ct);
                    if (e.Attachments is not null)
                        attachments.AddRange((AttachmentsJson.Read(e.Attachments) ?? []).Select(a => new ExpiredAttachment(e.Conv, a.Id)));
                }
            }
            await tx.CommitAsync(ct);
            count += expired.Count;
            if (expired.Count < RetentionBatch)
                return new RetentionRun(count, attachments);
        }
    }

    public async Task<bool> NamesAttachmentAsync(string conversation, string attachmentId, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        // AttachmentsJson writes compact JSON, so the id appears exactly like this.
        cmd.CommandText = "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = $c AND attachments LIKE $p);";
        cmd.Parameters.AddWithValue("$c", conversation);
        cmd.Parameters.AddWithValue("$p", $"%\"id\":\"{attachmentId}\"%");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct)) == 1;
    }

    private async Task<IReadOnlyList<FeedEntry>> QueryAsync(string sql, (string Name, object Value)[] args, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args)
            cmd.Parameters.AddWithValue(name, value);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<FeedEntry>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new FeedEntry(r.GetInt64(0), new MessageRecord(
                r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)),
                r.IsDBNull(8) ? null : AttachmentsJson.Read(r.GetString(8)))));
        }
        return list;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(ct);
        await ExecAsync(conn, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;", ct);
        return conn;
    }

    private static async Task ExecAsync(SqliteConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        if (_writeConnection is not null)
            await _writeConnection.DisposeAsync();
    }
}
