namespace ImOrleans.Tests.Infrastructure;

/// <summary>Finds the build output of another project of the solution, built in the same configuration as these tests,
/// so that tests run the real programs (Silo, Gateway, ImCtl) as separate processes.</summary>
public static class BuildOutput
{
    private static readonly string TestBin = AppContext.BaseDirectory; // .../Tests/bin/{Configuration}/net10.0/

    /// <summary>Debug or Release: whatever these tests were built as.</summary>
    public static string Configuration { get; } = TestBin.TrimEnd('/').Split('/')[^2];

    /// <summary>The folder that holds ImOrleans.sln.</summary>
    public static string SolutionRoot { get; } = FindRoot();

    /// <summary>The path of <c>{project}/bin/{Configuration}/net10.0/{assembly}.dll</c>, e.g. ("Tools/ImCtl", "ImCtl").</summary>
    public static string Dll(string projectDirectory, string assembly)
    {
        var dll = Path.Combine(SolutionRoot, projectDirectory, "bin", Configuration, "net10.0", assembly + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first", dll);
    }

    private static string FindRoot()
    {
        var root = new DirectoryInfo(TestBin);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImOrleans.sln")))
            root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException($"ImOrleans.sln not found above {TestBin}");
    }
}
