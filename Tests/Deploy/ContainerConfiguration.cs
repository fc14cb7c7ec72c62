using ImOrleans.Tests.Infrastructure;
using k8s.Models;
using Microsoft.Extensions.Configuration;

namespace ImOrleans.Tests.Deploy;

/// <summary>The .NET configuration a silo or gateway container starts with, built the way the app builds it from
/// environment variables: the image's <c>ENV</c>, then the ConfigMaps taken in whole (<c>envFrom</c>), then the
/// container's <c>env</c>. A value from a secret reads <c>secret:{name}/{key}</c>, from the downward API
/// <c>field:{path}</c>.</summary>
public sealed class ContainerConfiguration
{
    public IReadOnlyDictionary<string, string?> Variables { get; }
    public IConfiguration Configuration { get; }

    private ContainerConfiguration(Dictionary<string, string?> variables)
    {
        Variables = variables;
        Configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(variables.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":"), v.Value)))
            .Build();
    }

    public string? this[string key] => Configuration[key];

    /// <summary>A section bound as the app binds it, so unset keys keep the options class's defaults.</summary>
    public T Bind<T>(string section) where T : new() => Configuration.GetSection(section).Get<T>() ?? new T();

    public static ContainerConfiguration Of(RenderedManifests manifests, V1Container container, Dockerfile image)
    {
        var variables = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in image.Final.Environment)
            variables[name] = value;
        foreach (var (name, value) in FromConfigMaps(manifests, container))
            variables[name] = value;
        foreach (var v in container.Env ?? [])
            variables[v.Name] = v.Value
                ?? (v.ValueFrom?.SecretKeyRef is { } s ? $"secret:{s.Name}/{s.Key}"
                : v.ValueFrom?.FieldRef is { } f ? $"field:{f.FieldPath}"
                : v.ValueFrom?.ConfigMapKeyRef is { } c ? manifests.Named<V1ConfigMap>(c.Name).Data[c.Key]
                : null);
        return new ContainerConfiguration(variables);
    }

    /// <summary>Variable names the manifests set on the container (not the image's own).</summary>
    public static IEnumerable<string> NamesSetBy(RenderedManifests manifests, V1Container container) =>
        FromConfigMaps(manifests, container).Select(v => v.Key).Concat((container.Env ?? []).Select(v => v.Name));

    private static IEnumerable<KeyValuePair<string, string>> FromConfigMaps(RenderedManifests manifests, V1Container container) =>
        (container.EnvFrom ?? []).Where(e => e.ConfigMapRef is not null)
            .SelectMany(e => manifests.Named<V1ConfigMap>(e.ConfigMapRef.Name).Data);

    /// <summary>Which image a container runs: the silo's or the gateway's (by repository name), or neither.</summary>
    public static Dockerfile? ImageOf(V1Container container)
    {
        var repository = container.Image.Split(':')[0];
        return repository.EndsWith("/silo", StringComparison.Ordinal) ? Dockerfile.Read("Silo")
            : repository.EndsWith("/gateway", StringComparison.Ordinal) ? Dockerfile.Read("Gateway")
            : null;
    }
}

/// <summary>The configuration keys README.md's configuration table documents (list indexes written as N).</summary>
public static class DocumentedKeys
{
    private static readonly Lazy<HashSet<string>> Keys = new(Read);

    /// <summary>Whether a configuration key (<c>Grpc:ApiKeys:0</c>, <c>Auth:ExternalIssuers:1:Issuer</c>) is documented.</summary>
    public static bool Contains(string key)
    {
        var segments = key.Split(':').Select(s => s.All(char.IsAsciiDigit) ? "N" : s).ToList();
        var normalized = string.Join(':', segments);
        // A plain list (Grpc:ApiKeys) is documented without its index.
        var withoutIndex = segments[^1] == "N" ? string.Join(':', segments[..^1]) : normalized;
        return Keys.Value.Contains(normalized) || Keys.Value.Contains(withoutIndex);
    }

    public static IReadOnlySet<string> All => Keys.Value;

    private static HashSet<string> Read()
    {
        var readme = File.ReadAllLines(Path.Combine(BuildOutput.SolutionRoot, "README.md"));
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var inConfiguration = false;
        foreach (var line in readme)
        {
            if (line.StartsWith("## "))
                inConfiguration = line == "## Configuration";
            if (!inConfiguration || !line.StartsWith("| `"))
                continue;
            var cell = line.Split('|')[1];
            string? first = null;
            foreach (var quoted in cell.Split('`').Where((_, i) => i % 2 == 1))
            {
                // "`Auth:ExternalIssuers:N:Issuer`, `…:Audience`": the ellipsis stands for the first key's parent.
                var key = quoted.StartsWith('…') && first is not null ? first[..first.LastIndexOf(':')] + quoted[1..] : quoted;
                first ??= key;
                keys.Add(key);
            }
        }
        Assert.IsTrue(keys.Count > 20, "README.md's configuration table was not found");
        return keys;
    }
}
