using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace ImOrleans.Silo.Storage;

/// <summary>
/// Installs the tables and the OrleansQuery catalogue that the Orleans ADO.NET providers
/// (clustering, grain storage, reminders) need. The NuGet packages ship no SQL; ours lives in
/// <c>Sql/&lt;engine&gt;/NN-*.sql</c>, embedded in this assembly and run in name order.
/// Every script is idempotent, so this runs on every silo start.
/// </summary>
public static class OrleansSchema
{
    // Session-level advisory lock taken by every silo around the install, so that silos starting
    // together do not race on CREATE TABLE IF NOT EXISTS (which is not safe under concurrency in
    // PostgreSQL). Any constant works as long as nothing else in the database uses it; the message
    // store uses 7345021.
    private const long PostgresInstallLock = 0x496D_4F72_6C53_514C; // "ImOrlSQL"

    public static async Task ApplyPostgresAsync(string connectionString, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);

        // Waits while another silo installs; that takes well under a second, the timeout is a backstop.
        await ExecuteAsync(conn, null, $"SELECT pg_advisory_lock({PostgresInstallLock})", ct, timeoutSeconds: 120);
        try
        {
            foreach (var (name, sql) in LoadScripts("PostgreSQL"))
            {
                // One file = one command in one transaction: a failing file leaves nothing half-made.
                // Npgsql splits the text into statements itself and understands $$-quoted bodies.
                await using var tx = await conn.BeginTransactionAsync(ct);
                await ExecuteAsync(conn, tx, sql, ct, name);
                await tx.CommitAsync(ct);
            }
        }
        finally
        {
            // Not cancellable: a cancelled start must still release the lock, since a pooled session
            // outlives conn.Dispose(). A broken connection has lost the lock with its session already.
            if (conn.State == ConnectionState.Open)
                await ExecuteAsync(conn, null, $"SELECT pg_advisory_unlock({PostgresInstallLock})", CancellationToken.None);
        }
    }

    public static async Task ApplySqliteAsync(string connectionString, CancellationToken ct = default)
    {
        await using var conn = new SqliteConnection(connectionString);
        await conn.OpenAsync(ct);

        // WAL lets grain reads proceed while another connection writes. It is stored in the file, and
        // SQLite refuses to switch it inside a transaction, so it is set here and not in a script.
        await ExecuteAsync(conn, null, "PRAGMA journal_mode=WAL;", ct);

        foreach (var (name, sql) in LoadScripts("Sqlite"))
        {
            // BEGIN IMMEDIATE (the default here) serialises two processes installing at once.
            // Microsoft.Data.Sqlite runs every statement of a multi-statement command text.
            await using var tx = conn.BeginTransaction();
            await ExecuteAsync(conn, tx, sql, ct, name);
            await tx.CommitAsync(ct);
        }
    }

    private static async Task ExecuteAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct,
        string? script = null, int timeoutSeconds = 60)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx; // Microsoft.Data.Sqlite insists on it while a transaction is open
        cmd.CommandText = sql;
        cmd.CommandTimeout = timeoutSeconds;
        try
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (DbException e) when (script is not null)
        {
            throw new InvalidOperationException($"Orleans schema script {script} failed: {e.Message}", e);
        }
    }

    /// <summary>The embedded scripts of one engine (resources named "*.Sql.&lt;engine&gt;.*.sql"), ordered by name.</summary>
    private static IEnumerable<(string Name, string Sql)> LoadScripts(string engine)
    {
        var assembly = typeof(OrleansSchema).Assembly;
        var marker = $".Sql.{engine}.";
        var names = assembly.GetManifestResourceNames()
            .Where(n => n.Contains(marker, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (names.Count == 0)
            throw new InvalidOperationException($"No embedded Orleans SQL scripts for {engine}: is Sql/**/*.sql an EmbeddedResource?");
        foreach (var name in names)
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[(name.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..], reader.ReadToEnd());
        }
    }
}
