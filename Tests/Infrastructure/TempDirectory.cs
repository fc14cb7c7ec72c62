namespace ImOrleans.Tests.Infrastructure;

/// <summary>The folders tests write to (data folders of servers, stores and attachments), all under one folder per test
/// run, deleted when the run ends: a run makes hundreds of them, and a developer's /tmp should not keep them.
/// Set <c>IMORLEANS_KEEP_TEST_DATA=1</c> to keep them for a look afterwards.</summary>
public static class TempDirectory
{
    // Short names: a PostgreSQL server puts its Unix socket in its folder, and such a path may not pass 107 bytes.
    private static readonly Lazy<string> Root = new(() =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"imorleans-tests-{Guid.NewGuid().ToString("N")[..12]}")).FullName);

    private static int _made;

    /// <summary>A new empty folder in this run's folder, named for what it holds.</summary>
    public static string Create(string purpose) =>
        Directory.CreateDirectory(Path.Combine(Root.Value, $"{purpose}-{Interlocked.Increment(ref _made)}")).FullName;

    /// <summary>Deletes this run's folder, unless asked to keep it. What cannot be deleted (a process still writing) stays.</summary>
    public static void DeleteAll()
    {
        if (!Root.IsValueCreated || Environment.GetEnvironmentVariable("IMORLEANS_KEEP_TEST_DATA") == "1")
            return;
        try
        {
            Directory.Delete(Root.Value, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Could not delete the test data in {Root.Value}: {ex.Message}");
        }
    }
}
