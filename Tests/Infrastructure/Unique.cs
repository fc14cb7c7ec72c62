namespace ImOrleans.Tests.Infrastructure;

/// <summary>Fresh ids per test so tests sharing one cluster never see each other's data.</summary>
public static class Unique
{
    private static int _counter;

    public static string User(string prefix = "u") => $"{prefix}{Interlocked.Increment(ref _counter)}-{Guid.NewGuid().ToString("N")[..8]}";
}
