using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ImOrleans.Gateway.Grpc;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Silo.Hosting;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Deploy;

/// <summary>The Silo and Gateway images, checked from their Dockerfiles (no container runtime runs here).</summary>
[TestClass]
public sealed class DockerfileTests
{
    private const string Sdk = "mcr.microsoft.com/dotnet/sdk";
    private const string AspNet = "mcr.microsoft.com/dotnet/aspnet";

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheSdkImageOfGlobalJsonBuildsAndAPinnedAspNetRuntimeRuns(string project)
    {
        var file = Dockerfile.Read(project);
        Assert.AreEqual(2, file.Stages.Count, "a build stage and a runtime stage");
        var (build, runtime) = (file.Stages[0], file.Final);

        var sdk = JsonDocument.Parse(File.ReadAllText(Path.Combine(BuildOutput.SolutionRoot, "global.json"))).RootElement
            .GetProperty("sdk").GetProperty("version").GetString();
        StringAssert.StartsWith(build.Image, $"{Sdk}:{sdk}", "the SDK that global.json pins");
        StringAssert.Matches(runtime.Image, new Regex($@"^{Regex.Escape(AspNet)}:10\.0\.\d+(-[a-z-]+)?$"), "an ASP.NET 10 runtime of a concrete patch version");
        Assert.IsTrue(runtime.Arguments("COPY").Any(c => c.StartsWith($"--from={build.Name} ", StringComparison.Ordinal)),
            "the runtime stage takes the build stage's publish output");

        var publish = build.Arguments("RUN").SingleOrDefault(r => r.StartsWith("dotnet publish", StringComparison.Ordinal));
        Assert.IsNotNull(publish, "the build stage publishes");
        StringAssert.Contains(publish, $"{project}/{project}.csproj");
        StringAssert.Contains(publish, "-c Release");
    }

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheBuildStageCopiesEveryProjectTheProgramReferences(string project)
    {
        // A ProjectReference added without a COPY would break `docker build` only where a runtime exists.
        var build = Dockerfile.Read(project).Stages[0];
        var copied = build.Arguments("COPY")
            .SelectMany(c => c.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(t => !t.StartsWith("--")).SkipLast(1))
            .Select(source => source.TrimEnd('/')).ToList();
        foreach (var dependency in ProjectClosure(project))
        {
            CollectionAssert.Contains(copied, $"{dependency}/{Path.GetFileName(dependency)}.csproj", $"{dependency}'s project file, before the restore");
            CollectionAssert.Contains(copied, dependency, $"{dependency}'s sources");
            foreach (var imported in ImportsOf(dependency))
                CollectionAssert.Contains(copied, imported, $"{imported}, which {dependency}'s project file imports");
        }
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
            CollectionAssert.Contains(copied, file);
        var ignored = File.ReadAllLines(Path.Combine(BuildOutput.SolutionRoot, ".dockerignore"))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.Contains('*')).ToList();
        foreach (var source in copied)
        {
            Assert.IsTrue(Path.Exists(Path.Combine(BuildOutput.SolutionRoot, source)), $"COPY {source}: no such path in the repository");
            Assert.IsFalse(ignored.Any(i => $"{source}/".StartsWith(i, StringComparison.Ordinal)), $"COPY {source}: .dockerignore keeps it out of the context");
        }
    }

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheRuntimeRunsAsANonRootUserById(string project)
    {
        var user = Dockerfile.Read(project).Final.User;
        Assert.IsNotNull(user, "a USER in the runtime stage");
        // Numeric, so that Kubernetes can check runAsNonRoot against it.
        var uid = user.Split(':')[0];
        Assert.IsTrue(int.TryParse(uid, out var id), $"USER {user} is a numeric id");
        Assert.AreNotEqual(0, id, "not root");
    }

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheImageExposesTheAppsDefaultPorts(string project)
    {
        var gateway = new GatewayOptions();
        int[] gatewayPorts = [gateway.MqttPort, gateway.MqttTlsPort, new HttpOptions().Port, new GrpcOptions().Port];
        var cluster = new SiloClusterOptions();
        // The silo image also runs the embedded default, which hosts the gateway.
        var expected = project == "Silo" ? gatewayPorts.Concat([cluster.SiloPort, cluster.GatewayPort]) : gatewayPorts;

        CollectionAssert.AreEquivalent(expected.Order().ToList(), Dockerfile.Read(project).Final.ExposedPorts.Order().ToList());
    }

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheEntryPointStartsTheProjectsOwnProgram(string project)
    {
        var entry = Dockerfile.Read(project).Final.EntryPoint;
        var assembly = XDocument.Load(Path.Combine(BuildOutput.SolutionRoot, project, $"{project}.csproj"))
            .Descendants("AssemblyName").SingleOrDefault()?.Value ?? project;
        CollectionAssert.AreEqual(new[] { "dotnet", $"{assembly}.dll" }, entry);
        // The same name the build produces (the tests' own build of the project).
        Assert.IsTrue(File.Exists(BuildOutput.Dll(project, assembly)));
    }

    [TestMethod]
    [DataRow("Silo")]
    [DataRow("Gateway")]
    public void TheImageListensOnEveryInterfaceAndWritesOnlyToItsDataFolder(string project)
    {
        var runtime = Dockerfile.Read(project).Final;
        var env = runtime.Environment;
        foreach (var name in env.Keys.Where(n => !n.StartsWith("ASPNETCORE_") && !n.StartsWith("DOTNET_")))
            Assert.IsTrue(DocumentedKeys.Contains(name.Replace("__", ":")), $"ENV {name} names a key of README.md's configuration table");
        // Loopback (the default) is unreachable from outside a container.
        Assert.AreEqual("0.0.0.0", env["Http__Address"]);
        Assert.AreEqual("0.0.0.0", env["Gateway__Address"]);

        // Every path the app may write lies in one folder that belongs to the runtime user, so that a read-only root
        // filesystem needs one volume there (or none: cluster mode writes nothing with a signing key from a secret).
        var keyFolder = Path.GetDirectoryName(env["Auth__SigningKeyFile"]);
        if (project == "Silo")
            Assert.AreEqual(keyFolder, env["Storage__DataDirectory"], "SQLite files and the key file share the data folder");
        var uid = runtime.User!.Split(':')[0];
        Assert.IsTrue(runtime.Arguments("RUN").Any(r => r.Contains($"mkdir -p {keyFolder}") && r.Contains($"chown {uid}") && r.Contains(keyFolder!)),
            $"{keyFolder} is created and owned by user {uid}");
    }

    /// <summary>The project folder and every project it references, directly or not, relative to the repository root.</summary>
    /// <summary>The files a project's own file imports (such as ServerRuntime.props), relative to the repository.</summary>
    private static IEnumerable<string> ImportsOf(string folder) =>
        XDocument.Load(Path.Combine(BuildOutput.SolutionRoot, folder, $"{Path.GetFileName(folder)}.csproj"))
            .Descendants("Import").Select(i => Path.GetRelativePath(BuildOutput.SolutionRoot,
                Path.GetFullPath(Path.Combine(BuildOutput.SolutionRoot, folder, i.Attribute("Project")!.Value.Replace('\\', '/')))));

    private static IEnumerable<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var folder))
        {
            if (!seen.Add(folder))
                continue;
            var csproj = XDocument.Load(Path.Combine(BuildOutput.SolutionRoot, folder, $"{Path.GetFileName(folder)}.csproj"));
            foreach (var reference in csproj.Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(BuildOutput.SolutionRoot, folder, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(BuildOutput.SolutionRoot, Path.GetDirectoryName(path)!));
            }
        }
        return seen;
    }
}
