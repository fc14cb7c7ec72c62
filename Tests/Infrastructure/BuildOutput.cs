namespace ImOrleans.Tests.Infrastructure;

/// <summary>Finds the build output of another project of the solution, built in the same configuration as these tests,
/// so that tests run the real programs (Silo, ImCtl) as separate processes.</summary>
public static class BuildOutput
{
    /// <summary>The path of <c>{project}/bin/{Configuration}/net10.0/{assembly}.dll</c>, e.g. ("Tools/ImCtl", "ImCtl").</summary>
    public static string Dll(string projectDirectory, string assembly)
    {
        var testBin = AppContext.BaseDirectory; // .../Tests/bin/{Configuration}/net10.0/
        var parts = testBin.TrimEnd('/').Split('/');
        var configuration = parts[^2];
        var root = new DirectoryInfo(testBin);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImOrleans.sln")))
            root = root.Parent;
        if (root is null)
            throw new InvalidOperationException($"ImOrleans.sln not found above {testBin}");
        var dll = Path.Combine(root.FullName, projectDirectory, "bin", configuration, "net10.0", assembly + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first", dll);
    }
}
