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
