using ImOrleans.Models;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ImOrleans.Grains.Storage;

/// <summary>The embedded message log: one SQLite file in WAL mode. One writer (the group-commit loop)
/// and any number of pooled readers, which WAL lets run while a commit is in progress.</summary>
public sealed class SqliteMessageStore : IMessageStore, IAsyncDisposable
{
    private const string InsertColumns = "conversation_id, seq, client_id, sender, device, body, created_at, kind, target, reply_to, mentions, attachments";
    private const string Columns = InsertColumns + ", edited_at, deleted, reactions";

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
        // Log entries (edits, deletes, reactions, replies, mentions: docs/protocol.md §16) and search. The full-text
        // index holds live messages only: triggers take a message out when it is edited (its new text goes in),
        // deleted or removed, so neither a deleted nor a replaced text can be found.
        """
        ALTER TABLE messages ADD COLUMN kind TEXT;
        ALTER TABLE messages ADD COLUMN target INTEGER;
        ALTER TABLE messages ADD COLUMN reply_to INTEGER;
        ALTER TABLE messages ADD COLUMN mentions TEXT;
        ALTER TABLE messages ADD COLUMN edited_at INTEGER;
        ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN reactions TEXT;
        CREATE INDEX messages_target ON messages (conversation_id, target) WHERE target IS NOT NULL;
        CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages', content_rowid='position');
        INSERT INTO messages_fts (rowid, body) SELECT position, body FROM messages;
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind IS NULL AND new.deleted = 0 BEGIN
            INSERT INTO messages_fts (rowid, body) VALUES (new.position, new.body);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted ON messages BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.position, old.body WHERE old.kind IS NULL AND old.deleted = 0;
            INSERT INTO messages_fts (rowid, body) SELECT new.position, new.body WHERE new.kind IS NULL AND new.deleted = 0;
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind IS NULL AND old.deleted = 0 BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.position, old.body);
        END;
        """,
        // The full-text index is brought up to date in batches (IndexPending), not by a trigger per insert: indexing
        // row by row in small commits cost more CPU than the rest of the append. Rows up to fts_progress are indexed;
        // edits and deletes reach the index only for those, later rows are indexed with whatever text they have then.
        """
        DROP TRIGGER messages_fts_insert;
        DROP TRIGGER messages_fts_update;
        DROP TRIGGER messages_fts_delete;
        CREATE TABLE fts_progress (position INTEGER NOT NULL);
        INSERT INTO fts_progress (position) SELECT COALESCE(MAX(position), 0) FROM messages;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted ON messages
        WHEN old.position <= (SELECT position FROM fts_progress) BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.position, old.body WHERE old.kind IS NULL AND old.deleted = 0;
            INSERT INTO messages_fts (rowid, body) SELECT new.position, new.body WHERE new.kind IS NULL AND new.deleted = 0;
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
        WHEN old.kind IS NULL AND old.deleted = 0 AND old.position <= (SELECT position FROM fts_progress) BEGIN
            INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.position, old.body);
        END;
        """,
    ];

    // Indexes every live message after fts_progress and moves it to the end; run inside a write transaction.
    private const string IndexPending = """
        INSERT INTO messages_fts (rowid, body) SELECT position, body FROM messages
        WHERE position > (SELECT position FROM fts_progress) AND kind IS NULL AND deleted = 0;
        UPDATE fts_progress SET position = (SELECT COALESCE(MAX(position), 0) FROM messages);
        """;

    // The writer indexes once this many rows have been appended since it last did; a search indexes the rest first.
    private const int IndexBatch = 1000;
    private int _unindexed;

    private const int RetentionBatch = 1000;

    private readonly string _connectionString;
    private readonly GroupCommitWriter _writer;
    private SqliteConnection? _writeConnection;
    // Two INSERTs: one for plain messages (no kind, target, reply, mentions or attachments: nearly all), which binds 7
    // parameters instead of 12. Microsoft.Data.Sqlite allocates a binder per parameter per row, and the null ones were
    // the largest share of what storing a message allocated.
    private (SqliteCommand Command, SqliteParameter[] Parameters)? _insertPlain, _insertFull;

    public SqliteMessageStore(string path, int maxBatch, ILogger<SqliteMessageStore> log)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new GroupCommitWriter(WriteBatchAsync, maxBatch, log, synchronousWriter: true);
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

    public Task AppendAllAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct = default) => _writer.AppendAsync(messages, ct);

    private async Task WriteBatchAsync(IReadOnlyList<MessageRecord> batch, CancellationToken ct)
    {
        _writeConnection ??= await OpenAsync(ct);
        await using var tx = _writeConnection.BeginTransaction();
        foreach (var m in batch)
        {
            var plain = IsPlain(m);
            var (cmd, p) = plain
                ? _insertPlain ??= PrepareInsert(_writeConnection, PlainParameters)
                : _insertFull ??= PrepareInsert(_writeConnection, Parameters.Length);
            cmd.Transaction = tx;
            p[0].Value = m.Conversation;
            p[1].Value = m.Seq;
            p[2].Value = m.Id;
            p[3].Value = m.From;
            p[4].Value = m.Device;
            p[5].Value = m.Body;
            p[6].Value = m.Timestamp.ToUnixTimeMilliseconds();
            if (!plain)
            {
                p[7].Value = (object?)m.Kind ?? DBNull.Value;
                p[8].Value = (object?)m.Target ?? DBNull.Value;
                p[9].Value = (object?)m.ReplyTo ?? DBNull.Value;
                p[10].Value = (object?)StoredJson.Mentions(m.Mentions) ?? DBNull.Value;
                p[11].Value = (object?)AttachmentsJson.Write(m.Attachments) ?? DBNull.Value;
            }
            await cmd.ExecuteNonQueryAsync(ct);
        }
        _unindexed += batch.Count;
        if (_unindexed >= IndexBatch)
        {
            await ExecAsync(_writeConnection, IndexPending, ct);
            _unindexed = 0;
        }
        await tx.CommitAsync(ct);
    }

    // The INSERT's parameters in column order (InsertColumns); the plain INSERT binds the first seven.
    private static readonly (string Name, SqliteType Type)[] Parameters =
    [
        ("$c", SqliteType.Text), ("$s", SqliteType.Integer), ("$i", SqliteType.Text), ("$f", SqliteType.Text),
        ("$d", SqliteType.Text), ("$b", SqliteType.Text), ("$t", SqliteType.Integer), ("$k", SqliteType.Text),
        ("$g", SqliteType.Integer), ("$r", SqliteType.Integer), ("$m", SqliteType.Text), ("$a", SqliteType.Text),
    ];
    private const int PlainParameters = 7;

    private static bool IsPlain(MessageRecord m) => m.Kind is null && m.Target is null && m.ReplyTo is null
        && m.Mentions is not { Count: > 0 } && m.Attachments is not { Count: > 0 };

    /// <summary>A writer's INSERT of the first <paramref name="count"/> columns, made once for its connection:
    /// Microsoft.Data.Sqlite compiles a command's statement on its first run and keeps it, where a command per batch
    /// compiled it again for every commit.</summary>
    private static (SqliteCommand, SqliteParameter[]) PrepareInsert(SqliteConnection conn, int count)
    {
        var cmd = conn.CreateCommand();
        var columns = string.Join(", ", InsertColumns.Split(", ")[..count]);
        cmd.CommandText = $"INSERT INTO messages ({columns}) VALUES ({string.Join(", ", Parameters[..count].Select(p => p.Name))});";
        return (cmd, Parameters[..count].Select(p => cmd.Parameters.Add(p.Name, p.Type)).ToArray());
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

    public async Task RewriteAsync(string conversation, long seq, string body, IReadOnlyList<string>? mentions, DateTimeOffset? editedAt,
        bool deleted, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            UPDATE messages SET body = $b, mentions = $m, deleted = $x,
                edited_at = CASE WHEN seq = $s THEN COALESCE($e, edited_at) ELSE edited_at END,
                reactions = CASE WHEN $x = 1 THEN NULL ELSE reactions END,
                attachments = CASE WHEN $x = 1 THEN NULL ELSE attachments END
            WHERE conversation_id = $c AND (seq = $s OR (target = $s AND kind = 'edit'));
            """;
        cmd.Parameters.AddWithValue("$c", conversation);
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$b", body);
        cmd.Parameters.AddWithValue("$m", (object?)StoredJson.Mentions(mentions) ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$e", (object?)editedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$x", deleted ? 1 : 0);
        await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task SetReactionsAsync(string conversation, long seq, IReadOnlyDictionary<string, IReadOnlyList<string>>? reactions,
        CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "UPDATE messages SET reactions = $r WHERE conversation_id = $c AND seq = $s;";
        cmd.Parameters.AddWithValue("$c", conversation);
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$r", (object?)StoredJson.Reactions(reactions) ?? DBNull.Value);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<int> EraseSenderAsync(string conversation, string sender, CancellationToken ct = default)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            UPDATE messages SET body = '', mentions = NULL, reactions = NULL, attachments = NULL, deleted = 1
            WHERE conversation_id = $c AND sender = $f AND (kind IS NULL OR kind = 'edit') AND deleted = 0;
            """;
        cmd.Parameters.AddWithValue("$c", conversation);
        cmd.Parameters.AddWithValue("$f", sender);
        var erased = await cmd.ExecuteNonQueryAsync(ct);

        // Its reactions on the others' messages go too: they name the account.
        var named = new List<(long Seq, string Json)>();
        await using (var find = conn.CreateCommand())
        {
            find.CommandText = "SELECT seq, reactions FROM messages WHERE conversation_id = $c AND reactions LIKE $p;";
            find.Parameters.AddWithValue("$c", conversation);
            find.Parameters.AddWithValue("$p", StoredJson.ReactionsNaming(sender));
            await using var r = await find.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                named.Add((r.GetInt64(0), r.GetString(1)));
        }
        await using var update = conn.CreateCommand();
        update.CommandText = "UPDATE messages SET reactions = $r WHERE conversation_id = $c AND seq = $s;";
        var (c, sq, rx) = (update.Parameters.Add("$c", SqliteType.Text), update.Parameters.Add("$s", SqliteType.Integer),
            update.Parameters.Add("$r", SqliteType.Text));
        c.Value = conversation;
        foreach (var (seq, json) in named)
        {
            sq.Value = seq;
            rx.Value = (object?)StoredJson.Reactions(StoredJson.ReactionsWithout(json, sender)) ?? DBNull.Value;
            await update.ExecuteNonQueryAsync(ct);
        }
        return erased;
    }

    public async Task<IReadOnlyList<MessageRecord>> SearchAsync(string conversation, string text, long beforeSeq, int limit, CancellationToken ct = default)
    {
        var query = StoredJson.Fts5Query(text);
        if (query.Length == 0)
            return [];
        await IndexPendingAsync(ct);
        var rows = await QueryAsync(
            $"""
            SELECT m.position, {string.Join(", ", Columns.Split(", ").Select(c => "m." + c))}
            FROM messages_fts JOIN messages m ON m.position = messages_fts.rowid
            WHERE messages_fts MATCH $q AND m.conversation_id = $c AND m.seq < $s AND m.kind IS NULL AND m.deleted = 0
            ORDER BY m.seq DESC LIMIT $n;
            """,
            [("$q", query), ("$c", conversation), ("$s", beforeSeq), ("$n", limit)], ct);
        return rows.Select(r => r.Message).ToList();
    }

    /// <summary>Indexes what the writer has not yet, so that a search finds every message stored before it.</summary>
    private async Task IndexPendingAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        await ExecAsync(conn, IndexPending, ct);
        await tx.CommitAsync(ct);
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
                Kind: r.IsDBNull(8) ? null : r.GetString(8),
                Target: r.IsDBNull(9) ? null : r.GetInt64(9),
                ReplyTo: r.IsDBNull(10) ? null : r.GetInt64(10),
                Mentions: StoredJson.Mentions(r.IsDBNull(11) ? null : r.GetString(11)),
                Attachments: r.IsDBNull(12) ? null : AttachmentsJson.Read(r.GetString(12)),
                EditedAt: r.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
                Deleted: r.GetInt64(14) != 0,
                Reactions: StoredJson.Reactions(r.IsDBNull(15) ? null : r.GetString(15)))));
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
        _insertPlain?.Command.Dispose();
        _insertFull?.Command.Dispose();
        if (_writeConnection is not null)
            await _writeConnection.DisposeAsync();
    }
}
