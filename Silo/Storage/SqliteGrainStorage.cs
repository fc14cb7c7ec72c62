using System.Collections.Concurrent;
using ImOrleans.Grains.Storage;
using Microsoft.Data.Sqlite;
using Orleans.Serialization;
using Orleans.Storage;

namespace ImOrleans.Silo.Storage;

/// <summary>Grain state on the embedded SQLite file (table <c>grain_state</c>, Sql/Sqlite/04-grain-state.sql), in
/// Orleans' binary format.
/// <para>Why not Orleans' ADO.NET provider, which held it before: every read built and compiled its query anew and
/// parsed Newtonsoft JSON, and every write was a transaction with its own sync to disk. Here each reader connection
/// compiles its query once, and writes are group-committed: one thread writes whatever has queued in one transaction.
/// Microsoft.Data.Sqlite's async methods run synchronously, so that thread, not the thread pool, is what blocks in
/// SQLite and fsync (grains writing at once used to hold most of the pool for a second and more); WAL lets reads run
/// meanwhile.</para>
/// <para>State kept by the old provider (OrleansStorage) is still read, through it, for a grain with no row here; the
/// grain's next write or clear puts its row here, and that row wins from then on.</para></summary>
public sealed class SqliteGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private const int MaxBatch = 256;

    private readonly string _connectionString;
    private readonly IGrainStorage _legacy;
    private readonly Serializer _serializer;
    private readonly GroupCommit<PendingWrite, long?> _writes;
    private readonly ConcurrentBag<Reader> _readers = [];
    private readonly Lazy<bool> _legacyHasState;
    private WriteCommands? _writer; // used by the writer's thread only

    /// <summary>Transactions committed and writes in them, for tests and diagnostics.</summary>
    public (long Commits, long Writes) Committed => (_writes.Stats.Batches, _writes.Stats.Appends);

    public SqliteGrainStorage(string connectionString, IGrainStorage legacy, Serializer serializer, ILogger<SqliteGrainStorage> log)
    {
        _connectionString = connectionString;
        _legacy = legacy;
        _serializer = serializer;
        // PublicationOnly: a failed check (the file busy, say) is tried again by the next read, not kept.
        _legacyHasState = new(() => Scalar("SELECT EXISTS (SELECT 1 FROM OrleansStorage WHERE PayloadBinary IS NOT NULL);") == 1,
            LazyThreadSafetyMode.PublicationOnly);
        _writes = new(batch => Task.FromResult(Write(batch)), MaxBatch, log, ownThread: "grain state writer");
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var (found, payload, version) = Read(stateName, grainId);
        if (found)
        {
            grainState.State = payload is null ? NewState<T>() : _serializer.Deserialize<T>(payload);
            (grainState.ETag, grainState.RecordExists) = (version.ToString(), payload is not null);
        }
        else if (_legacyHasState.Value)
        {
            await _legacy.ReadStateAsync(stateName, grainId, grainState);
            grainState.ETag = null; // no row here yet: the next write inserts one
        }
        else
        {
            grainState.State = NewState<T>();
            (grainState.ETag, grainState.RecordExists) = (null, false);
        }
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queue(stateName, grainId, grainState, _serializer.SerializeToArray(grainState.State), exists: true);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queue(stateName, grainId, grainState, payload: null, exists: false);

    /// <summary>What a grain with no state starts from: a new instance where the type has a constructor for it (every
    /// state class of ours), else the default.</summary>
    private static T NewState<T>() => Constructible<T>.Yes ? Activator.CreateInstance<T>() : default!;

    /// <summary>Asked once per state type, not on every read of a grain that has none (every new device's connect).</summary>
    private static class Constructible<T>
    {
        public static readonly bool Yes = typeof(T).GetConstructor(Type.EmptyTypes) is not null;
    }

    /// <summary>The old provider creates its queries at silo start.</summary>
    public void Participate(ISiloLifecycle lifecycle) => (_legacy as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    /// <summary>Writes queued before this still run (waited for, briefly); later ones fail.</summary>
    public void Dispose()
    {
        try
        {
            if (!_writes.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10)))
                return; // the writer is stuck in the database: leave its connection to the process's end
        }
        catch (AggregateException)
        {
            // The writer's loop failed; what is left is closing the connections.
        }
        _writer?.Dispose();
        while (_readers.TryTake(out var reader))
            reader.Dispose(); // one still in use is disposed by whoever holds it, when it fails on the closed file
    }

    private (bool Found, byte[]? Payload, long Version) Read(string stateName, GrainId grainId)
    {
        var reader = _readers.TryTake(out var r) ? r : new Reader(Open());
        try
        {
            reader.GrainId.Value = grainId.ToString();
            reader.StateName.Value = stateName;
            (bool, byte[]?, long) result;
            using (var row = reader.Select.ExecuteReader())
                result = row.Read() ? (true, row.IsDBNull(0) ? null : (byte[])row.GetValue(0), row.GetInt64(1)) : (false, null, 0L);
            _readers.Add(reader); // only once the result is closed: the next read may take it at once
            return result;
        }
        catch
        {
            reader.Dispose(); // a connection that failed is not reused
            throw;
        }
    }

    private async Task Queue<T>(string stateName, GrainId grainId, IGrainState<T> grainState, byte[]? payload, bool exists)
    {
        // The version the grain holds as it asks: a grain has one write of a state out at a time (none of ours writes
        // from an interleaving call), so a second write of it never waits in the queue behind a first.
        var version = grainState.ETag is { } etag ? long.Parse(etag) : (long?)null;
        var write = new PendingWrite(grainId.ToString(), stateName, payload, version);
        if (await _writes.AddAsync(write) is not { } stored)
        {
            var expected = version?.ToString() ?? "none";
            throw new InconsistentStateException(
                $"grain state {stateName} of {grainId} changed since version {expected} was read", "unknown", expected);
        }
        (grainState.ETag, grainState.RecordExists) = (stored.ToString(), exists);
        if (!exists)
            grainState.State = NewState<T>(); // cleared: the grain goes on from a state of nothing, as after a read
    }

    /// <summary>One transaction for the batch, on the writer's thread: each write's new version, or null for one whose
    /// version is stale (it changes nothing and fails alone). When it throws, <see cref="GroupCommit{TItem,TOutcome}"/>
    /// tries each write again alone.</summary>
    private long?[] Write(IReadOnlyList<PendingWrite> batch)
    {
        try
        {
            _writer ??= new WriteCommands(Open());
            using var tx = _writer.Connection.BeginTransaction();
            (_writer.Insert.Transaction, _writer.Update.Transaction) = (tx, tx);
            var outcomes = new long?[batch.Count];
            for (var i = 0; i < batch.Count; i++)
                outcomes[i] = _writer.Run(batch[i]);
            tx.Commit();
            return outcomes;
        }
        catch
        {
            _writer?.Dispose();
            _writer = null; // opened afresh for the next try
            throw;
        }
    }

    private SqliteConnection Open()
    {
        var conn = new SqliteConnection(_connectionString);
        conn.Open();
        using var pragma = conn.CreateCommand();
        // synchronous=FULL: a write is on disk before the grain hears it is done.
        pragma.CommandText = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return conn;
    }

    private long Scalar(string sql)
    {
        using var conn = Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private sealed record PendingWrite(string GrainId, string StateName, byte[]? Payload, long? Version);

    /// <summary>The writer's connection with its two statements, each compiled once.</summary>
    private sealed class WriteCommands : IDisposable
    {
        public WriteCommands(SqliteConnection connection)
        {
            Connection = connection;
            Update = Command("UPDATE grain_state SET payload = $p, version = version + 1 WHERE grain_id = $g AND state_name = $s AND version = $v RETURNING version;");
            Update.Parameters.Add("$v", SqliteType.Integer);
            Insert = Command("INSERT INTO grain_state (grain_id, state_name, payload, version) VALUES ($g, $s, $p, 1) ON CONFLICT DO NOTHING RETURNING version;");
        }

        public SqliteConnection Connection { get; }
        public SqliteCommand Update { get; }
        public SqliteCommand Insert { get; }

        /// <summary>The new version, or null when the write names a version that is not the stored one (for a first
        /// write: when a row exists already).</summary>
        public long? Run(PendingWrite w)
        {
            var cmd = w.Version is null ? Insert : Update;
            cmd.Parameters["$g"].Value = w.GrainId;
            cmd.Parameters["$s"].Value = w.StateName;
            cmd.Parameters["$p"].Value = (object?)w.Payload ?? DBNull.Value;
            if (w.Version is { } v)
                cmd.Parameters["$v"].Value = v;
            return cmd.ExecuteScalar() is long version ? version : null;
        }

        private SqliteCommand Command(string sql)
        {
            var cmd = Connection.CreateCommand();
            cmd.CommandText = sql;
            cmd.Parameters.Add("$g", SqliteType.Text);
            cmd.Parameters.Add("$s", SqliteType.Text);
            cmd.Parameters.Add("$p", SqliteType.Blob);
            return cmd;
        }

        public void Dispose()
        {
            Update.Dispose();
            Insert.Dispose();
            Connection.Dispose();
        }
    }

    /// <summary>A connection with its SELECT compiled once, used by one read at a time.</summary>
    private sealed class Reader : IDisposable
    {
        public Reader(SqliteConnection connection)
        {
            Connection = connection;
            Select = connection.CreateCommand();
            Select.CommandText = "SELECT payload, version FROM grain_state WHERE grain_id = $g AND state_name = $s;";
            GrainId = Select.Parameters.Add("$g", SqliteType.Text);
            StateName = Select.Parameters.Add("$s", SqliteType.Text);
        }

        public SqliteConnection Connection { get; }
        public SqliteCommand Select { get; }
        public SqliteParameter GrainId { get; }
        public SqliteParameter StateName { get; }

        public void Dispose()
        {
            Select.Dispose();
            Connection.Dispose();
        }
    }
}
