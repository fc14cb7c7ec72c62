using ImOrleans.Models;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ImOrleans.Grains.Storage;

/// <summary>The cluster-mode message log on PostgreSQL, hash-partitioned by conversation.
/// Each silo runs its own group-commit loop; a batch is one multi-row INSERT in one transaction.</summary>
public sealed class PostgresMessageStore : IMessageStore, IAsyncDisposable
{
    private const string InsertColumns = "conversation_id, seq, client_id, sender, device, body, created_at, kind, target, reply_to, mentions, attachments";
    private const string Columns = InsertColumns + ", edited_at, deleted, reactions";
    private const int Partitions = 8;

    // Each entry is one schema version; new versions are appended, never edited.
    private static readonly string[] Migrations =
    [
        $"""
        CREATE TABLE im_messages (
            conversation_id text        NOT NULL,
            seq             bigint      NOT NULL,
            position        bigserial   NOT NULL,
            client_id       text        NOT NULL,
            sender          text        NOT NULL,
            device          text        NOT NULL,
            body            text        NOT NULL,
            created_at      timestamptz NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        ) PARTITION BY HASH (conversation_id);
        {string.Concat(Enumerable.Range(0, Partitions).Select(i =>
            $"CREATE TABLE im_messages_p{i} PARTITION OF im_messages FOR VALUES WITH (MODULUS {Partitions}, REMAINDER {i});\n"))}
        CREATE INDEX im_messages_position ON im_messages (position);
        """,
        // Attachment descriptors of a message as JSON (AttachmentsJson), null for none.
        "ALTER TABLE im_messages ADD COLUMN attachments jsonb;",
        // Retention: per-conversation settings, and messages found by age.
        """
        CREATE TABLE im_conversation_retention (conversation_id text PRIMARY KEY, days int NOT NULL);
        CREATE INDEX im_messages_created ON im_messages (created_at);
        """,
        // Log entries (edits, deletes, reactions, replies, mentions: docs/protocol.md §16) and search. The search
        // vector is generated from the row, so an edit or a delete keeps the index right by itself; it is empty for
        // entries other than messages and for tombstones. 'simple': words as written, no stemming, any language.
        """
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS kind text;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS target bigint;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS reply_to bigint;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS mentions text;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS edited_at timestamptz;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS deleted boolean NOT NULL DEFAULT false;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS reactions text;
        ALTER TABLE im_messages ADD COLUMN IF NOT EXISTS search tsvector
            GENERATED ALWAYS AS (CASE WHEN kind IS NULL AND NOT deleted THEN to_tsvector('simple'::regconfig, body) END) STORED;
        CREATE INDEX IF NOT EXISTS im_messages_search ON im_messages USING gin (search);
        CREATE INDEX IF NOT EXISTS im_messages_target ON im_messages (conversation_id, target) WHERE target IS NOT NULL;
        """,
    ];

    private const int RetentionBatch = 1000;

    private readonly NpgsqlDataSource _db;
    private readonly GroupCommitWriter _writer;

    public PostgresMessageStore(string connectionString, int maxBatch, ILogger<PostgresMessageStore> log)
    {
        _db = NpgsqlDataSource.Create(connectionString);
        _writer = new GroupCommitWriter(WriteBatchAsync, maxBatch, log);
    }

    public BatchStats Stats => _writer.Stats;

    /// <summary>The connection string with the session limits of <paramref name="options"/> as startup options, so that
    /// they hold on every connection of the pool from its first statement on.</summary>
    public static string WithSessionLimits(string connectionString, StorageOptions options)
    {
        static string Ms(TimeSpan t, string key) => t > TimeSpan.Zero
            ? ((long)t.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"Storage:{key} must be positive");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = string.Join(' ', new[]
        {
            builder.Options,
            $"-c idle_in_transaction_session_timeout={Ms(options.IdleInTransactionTimeout, nameof(options.IdleInTransactionTimeout))}",
            $"-c lock_timeout={Ms(options.LockTimeout, nameof(options.LockTimeout))}",
            $"-c statement_timeout={Ms(options.StatementTimeout, nameof(options.StatementTimeout))}",
        }.Where(o => !string.IsNullOrEmpty(o)));
        return builder.ToString();
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Migrations may wait for another silo's and pause between statements (a busy machine at start) far longer
        // than a batch may, so the tight session limits of the batches do not apply to them; generous ones do.
        await ExecAsync(conn, "SET LOCAL lock_timeout = '2min'; SET LOCAL statement_timeout = '2min'; SET LOCAL idle_in_transaction_session_timeout = '1min';", ct);
        // Serializes migrations when several silos start at once; released at commit.
        await ExecAsync(conn, "SELECT pg_advisory_xact_lock(7345021);", ct);
        await ExecAsync(conn, "CREATE TABLE IF NOT EXISTS im_store_schema (version int NOT NULL);", ct);
        await using var get = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM im_store_schema;", conn);
        var version = Convert.ToInt32(await get.ExecuteScalarAsync(ct));
        for (var v = version; v < Migrations.Length; v++)
        {
            await ExecAsync(conn, Migrations[v], ct);
            await ExecAsync(conn, $"INSERT INTO im_store_schema (version) VALUES ({v + 1});", ct);
        }
        await tx.CommitAsync(ct);
    }

    public Task AppendAllAsync(IReadOnlyList<MessageRecord> messages, CancellationToken ct = default) => _writer.AppendAsync(messages, ct);

    // Taken by every batch: feed positions (bigserial) then follow commit order across all silos, so a feed
    // reader that has seen position N can never later find an N-1 that was still being committed.
    private const long FeedOrderLock = 7345022;

    private async Task WriteBatchAsync(IReadOnlyList<MessageRecord> batch, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({FeedOrderLock});", conn, tx))
            await lockCmd.ExecuteNonQueryAsync(ct);
        await using var cmd = new NpgsqlCommand(
            $"INSERT INTO im_messages ({InsertColumns}) SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ORDER BY 1, 2;", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Conversation).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Seq).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.From).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Device).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Body).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Timestamp.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Kind).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.Target).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => m.ReplyTo).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => StoredJson.Mentions(m.Mentions)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(m => AttachmentsJson.Write(m.Attachments)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task<long> GetLastSeqAsync(string conversation, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT seq FROM im_messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1;");
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        return await cmd.ExecuteScalarAsync(ct) is long seq ? seq : 0;
    }

    public async Task<IReadOnlyList<MessageRecord>> ReadAfterAsync(string conversation, long afterSeq, int limit, CancellationToken ct = default)
    {
        var rows = await QueryAsync(
            $"SELECT position, {Columns} FROM im_messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3;",
            [conversation, afterSeq, limit], ct);
        return rows.Select(r => r.Message).ToList();
    }

    public async Task<IReadOnlyList<MessageRecord>> ReadBeforeAsync(string conversation, long beforeSeq, int limit, CancellationToken ct = default)
    {
        var rows = await QueryAsync(
            $"SELECT position, {Columns} FROM im_messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3;",
            [conversation, beforeSeq, limit], ct);
        return rows.Select(r => r.Message).Reverse().ToList();
    }

    public async Task RewriteAsync(string conversation, long seq, string body, IReadOnlyList<string>? mentions, DateTimeOffset? editedAt,
        bool deleted, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("""
            UPDATE im_messages SET body = $3, mentions = $4, deleted = $6,
                edited_at = CASE WHEN seq = $2 THEN COALESCE($5, edited_at) ELSE edited_at END,
                reactions = CASE WHEN $6 THEN NULL ELSE reactions END,
                attachments = CASE WHEN $6 THEN NULL ELSE attachments END
            WHERE conversation_id = $1 AND (seq = $2 OR (target = $2 AND kind = 'edit'));
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        cmd.Parameters.Add(new NpgsqlParameter { Value = seq });
        cmd.Parameters.Add(new NpgsqlParameter { Value = body });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)StoredJson.Mentions(mentions) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)editedAt?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = deleted });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task SetReactionsAsync(string conversation, long seq, IReadOnlyDictionary<string, IReadOnlyList<string>>? reactions,
        CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("UPDATE im_messages SET reactions = $3 WHERE conversation_id = $1 AND seq = $2;");
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        cmd.Parameters.Add(new NpgsqlParameter { Value = seq });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)StoredJson.Reactions(reactions) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<int> EraseSenderAsync(string conversation, string sender, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("""
            UPDATE im_messages SET body = '', mentions = NULL, reactions = NULL, attachments = NULL, deleted = true
            WHERE conversation_id = $1 AND sender = $2 AND (kind IS NULL OR kind = 'edit') AND NOT deleted;
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        cmd.Parameters.Add(new NpgsqlParameter { Value = sender });
        var erased = await cmd.ExecuteNonQueryAsync(ct);

        // Its reactions on the others' messages go too: they name the account.
        var named = new List<(long Seq, string Json)>();
        await using (var find = _db.CreateCommand("SELECT seq, reactions FROM im_messages WHERE conversation_id = $1 AND reactions LIKE $2;"))
        {
            find.Parameters.Add(new NpgsqlParameter { Value = conversation });
            find.Parameters.Add(new NpgsqlParameter { Value = StoredJson.ReactionsNaming(sender) });
            await using var r = await find.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                named.Add((r.GetInt64(0), r.GetString(1)));
        }
        foreach (var (seq, json) in named)
            await SetReactionsAsync(conversation, seq, StoredJson.ReactionsWithout(json, sender), ct);
        return erased;
    }

    public async Task<IReadOnlyList<MessageRecord>> SearchAsync(string conversation, string text, long beforeSeq, int limit, CancellationToken ct = default)
    {
        if (StoredJson.Words(text).Length == 0)
            return [];
        var rows = await QueryAsync(
            $"""
            SELECT position, {Columns} FROM im_messages
            WHERE conversation_id = $1 AND search @@ plainto_tsquery('simple'::regconfig, $2) AND seq < $3
            ORDER BY seq DESC LIMIT $4;
            """,
            [conversation, text, beforeSeq, limit], ct);
        return rows.Select(r => r.Message).ToList();
    }

    public async Task<long> GetHeadPositionAsync(CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand("SELECT COALESCE(MAX(position), 0) FROM im_messages;");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public Task<IReadOnlyList<FeedEntry>> ReadFeedAsync(long afterPosition, int limit, string? conversation = null, CancellationToken ct = default) =>
        conversation is null
            ? QueryAsync($"SELECT position, {Columns} FROM im_messages WHERE position > $1 ORDER BY position LIMIT $2;",
                [afterPosition, limit], ct)
            : QueryAsync($"SELECT position, {Columns} FROM im_messages WHERE conversation_id = $3 AND position > $1 ORDER BY position LIMIT $2;",
                [afterPosition, limit, conversation], ct);

    public async Task SetRetentionAsync(string conversation, int? days, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand(days is null
            ? "DELETE FROM im_conversation_retention WHERE conversation_id = $1;"
            : "INSERT INTO im_conversation_retention (conversation_id, days) VALUES ($1, $2) ON CONFLICT (conversation_id) DO UPDATE SET days = excluded.days;");
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        if (days is not null)
            cmd.Parameters.Add(new NpgsqlParameter { Value = days.Value });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<RetentionRun> DeleteExpiredAsync(DateTimeOffset now, int defaultDays, CancellationToken ct = default)
    {
        var (count, attachments) = (0, new List<ExpiredAttachment>());
        while (true)
        {
            // A batch per transaction; deletes never take the feed-order lock, so sends do not wait on them.
            await using var conn = await _db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var expired = new List<(string Conv, long Seq, string? Attachments, bool Last)>();
            await using (var find = new NpgsqlCommand("""
                SELECT m.conversation_id, m.seq, m.attachments::text,
                       m.seq = (SELECT MAX(x.seq) FROM im_messages x WHERE x.conversation_id = m.conversation_id) AS last
                FROM im_messages m LEFT JOIN im_conversation_retention r ON r.conversation_id = m.conversation_id
                WHERE COALESCE(r.days, $1) > 0 AND m.created_at < $2 - make_interval(days => COALESCE(r.days, $1))
                  AND NOT (m.body = '' AND m.attachments IS NULL
                           AND m.seq = (SELECT MAX(x.seq) FROM im_messages x WHERE x.conversation_id = m.conversation_id))
                LIMIT $3;
                """, conn, tx))
            {
                find.Parameters.Add(new NpgsqlParameter { Value = defaultDays });
                find.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                find.Parameters.Add(new NpgsqlParameter { Value = RetentionBatch });
                await using var r = await find.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                    expired.Add((r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetBoolean(3)));
            }
            var last = expired.Where(e => e.Last).ToList();
            var gone = expired.Where(e => !e.Last).ToList();
            await using (var delete = new NpgsqlCommand(
                "DELETE FROM im_messages m USING unnest($1, $2) AS k(c, s) WHERE m.conversation_id = k.c AND m.seq = k.s;", conn, tx))
            {
                delete.Parameters.Add(new NpgsqlParameter { Value = gone.Select(e => e.Conv).ToArray() });
                delete.Parameters.Add(new NpgsqlParameter { Value = gone.Select(e => e.Seq).ToArray() });
                await delete.ExecuteNonQueryAsync(ct);
            }
            await using (var empty = new NpgsqlCommand(
                "UPDATE im_messages m SET body = '', attachments = NULL FROM unnest($1, $2) AS k(c, s) WHERE m.conversation_id = k.c AND m.seq = k.s;", conn, tx))
            {
                empty.Parameters.Add(new NpgsqlParameter { Value = last.Select(e => e.Conv).ToArray() });
                empty.Parameters.Add(new NpgsqlParameter { Value = last.Select(e => e.Seq).ToArray() });
                await empty.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            foreach (var e in expired.Where(e => e.Attachments is not null))
                attachments.AddRange((AttachmentsJson.Read(e.Attachments!) ?? []).Select(a => new ExpiredAttachment(e.Conv, a.Id)));
            count += expired.Count;
            if (expired.Count < RetentionBatch)
                return new RetentionRun(count, attachments);
        }
    }

    public async Task<bool> NamesAttachmentAsync(string conversation, string attachmentId, CancellationToken ct = default)
    {
        await using var cmd = _db.CreateCommand(
            "SELECT EXISTS (SELECT 1 FROM im_messages WHERE conversation_id = $1 AND attachments @> jsonb_build_array(jsonb_build_object('id', $2::text)));");
        cmd.Parameters.Add(new NpgsqlParameter { Value = conversation });
        cmd.Parameters.Add(new NpgsqlParameter { Value = attachmentId });
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    private async Task<IReadOnlyList<FeedEntry>> QueryAsync(string sql, object[] args, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(sql);
        foreach (var a in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<FeedEntry>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new FeedEntry(r.GetInt64(0), new MessageRecord(
                r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
                new DateTimeOffset(r.GetDateTime(7), TimeSpan.Zero),
                Kind: r.IsDBNull(8) ? null : r.GetString(8),
                Target: r.IsDBNull(9) ? null : r.GetInt64(9),
                ReplyTo: r.IsDBNull(10) ? null : r.GetInt64(10),
                Mentions: StoredJson.Mentions(r.IsDBNull(11) ? null : r.GetString(11)),
                Attachments: r.IsDBNull(12) ? null : AttachmentsJson.Read(r.GetString(12)),
                EditedAt: r.IsDBNull(13) ? null : new DateTimeOffset(r.GetDateTime(13), TimeSpan.Zero),
                Deleted: r.GetBoolean(14),
                Reactions: StoredJson.Reactions(r.IsDBNull(15) ? null : r.GetString(15)))));
        }
        return list;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        await _db.DisposeAsync();
    }
}
