using System.Text.Json;
using System.Text.RegularExpressions;
using ImOrleans.Tests.Infrastructure;

namespace ImOrleans.Tests.Deploy;

/// <summary>A project's Dockerfile read as instructions (continuation lines joined, comments dropped), split into
/// stages. No container runtime runs here, so the tests check what the text says.</summary>
public sealed partial class Dockerfile
{
    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<string> Arguments(string keyword) =>
            Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);

        /// <summary>Every <c>ENV</c> of the stage, in the <c>KEY=value</c> form.</summary>
        public IReadOnlyDictionary<string, string> Environment =>
            Arguments("ENV").SelectMany(a => EnvPair().Matches(a))
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'));

        public IReadOnlySet<int> ExposedPorts =>
            Arguments("EXPOSE").SelectMany(a => a.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(p => int.Parse(p.Split('/')[0])).ToHashSet();

        /// <summary>The last <c>USER</c>, the one the container runs as.</summary>
        public string? User => Arguments("USER").LastOrDefault();

        /// <summary>The exec form of <c>ENTRYPOINT</c> (a JSON array).</summary>
        public string[] EntryPoint => JsonSerializer.Deserialize<string[]>(Arguments("ENTRYPOINT").Single())!;
    }

    public string Project { get; }
    public IReadOnlyList<Stage> Stages { get; }
    public Stage Final => Stages[^1];

    private Dockerfile(string project, IReadOnlyList<Stage> stages)
    {
        Project = project;
        Stages = stages;
    }

    /// <summary><c>{project}/Dockerfile</c> of the repository, e.g. "Silo".</summary>
    public static Dockerfile Read(string project)
    {
        var path = Path.Combine(BuildOutput.SolutionRoot, project, "Dockerfile");
        Assert.IsTrue(File.Exists(path), $"{project}/Dockerfile is missing");
        return new Dockerfile(project, Parse(File.ReadAllText(path)));
    }

    private static List<Stage> Parse(string text)
    {
        var stages = new List<Stage>();
        List<Instruction>? current = null;
        foreach (var line in LogicalLines(text))
        {
            var space = line.IndexOf(' ');
            var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : line[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                current = [];
                stages.Add(new Stage(parts[0], parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null, current));
            }
            else
            {
                Assert.IsNotNull(current, $"{keyword} before the first FROM");
                current.Add(new Instruction(keyword, arguments));
            }
        }
        return stages;
    }

    private static IEnumerable<string> LogicalLines(string text)
    {
        var pending = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#'))
                continue; // comments, also between continuation lines
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            var whole = (pending + line).Trim();
            pending = "";
            if (whole.Length > 0)
                yield return whole;
        }
    }

    [GeneratedRegex("""([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)""")]
    private static partial Regex EnvPair();
}
