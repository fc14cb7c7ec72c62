namespace ImOrleans.Grains.Storage;

/// <summary>Where state and messages live, bound from the <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string SqliteProvider = "Sqlite";
    public const string PostgresProvider = "PostgreSQL";

    /// <summary><c>Sqlite</c> (embedded default) or <c>PostgreSQL</c> (cluster mode).</summary>
    public string Provider { get; set; } = SqliteProvider;

    /// <summary>Folder for the SQLite files in embedded mode.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Npgsql connection string, required when <see cref="Provider"/> is PostgreSQL.</summary>
    public string? PostgreSQL { get; set; }

    /// <summary>What every PostgreSQL pool of a silo connects with: <see cref="PostgreSQL"/>, with Npgsql's automatic
    /// preparation of statements on (<c>Max Auto Prepare=32</c>) unless it sets <c>Max Auto Prepare</c> itself. The same
    /// few statements run for every message; prepared, PostgreSQL no longer parses and plans them each time (a quarter
    /// less CPU per message for one busy conversation in the benchmark). PgBouncer in transaction mode before 1.21
    /// cannot carry prepared statements: there, set <c>Max Auto Prepare=0</c>.</summary>
    public string? PostgresConnectionString => PostgreSQL is null ? null : WithAutoPrepare(PostgreSQL);

    private static string WithAutoPrepare(string connectionString)
    {
        // Npgsql's own builder reports every keyword it knows as present; the keys as written tell what was set.
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (written.Keys.Cast<string>().Any(k => k.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
            return connectionString;
        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 32 }.ConnectionString;
    }

    /// <summary>Most appends committed in one transaction.</summary>
    public int MaxBatch { get; set; } = 256;

    // PostgreSQL session limits of the message store's connections. Every batch of every silo takes one advisory
    // lock (feed order): a silo frozen inside a batch must lose its session, and with it the lock, within seconds.

    /// <summary>An open transaction left idle this long ends its session (<c>idle_in_transaction_session_timeout</c>).</summary>
    public TimeSpan IdleInTransactionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait for a lock before the statement fails (<c>lock_timeout</c>); the send is then refused as unavailable.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest one statement may run (<c>statement_timeout</c>).</summary>
    public TimeSpan StatementTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsPostgres => string.Equals(Provider, PostgresProvider, StringComparison.OrdinalIgnoreCase);

    public string MessagesPath => Path.Combine(DataDirectory, "messages.db");

    public string GrainStatePath => Path.Combine(DataDirectory, "grains.db");
}
