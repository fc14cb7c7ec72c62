namespace ImOrleans.Tests.Infrastructure;

public static class TempDirectory
{
    /// <summary>A new empty folder under the system temp folder, named for what it holds.</summary>
    public static string Create(string purpose)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"imorleans-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
