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

    public bool IsPostgres => string.Equals(Provider, PostgresProvider, StringComparison.OrdinalIgnoreCase);

    public string MessagesPath => Path.Combine(DataDirectory, "messages.db");

    public string GrainStatePath => Path.Combine(DataDirectory, "grains.db");
}
