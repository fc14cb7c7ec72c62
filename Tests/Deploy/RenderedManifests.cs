using System.Collections.Concurrent;
using ImOrleans.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ImOrleans.Tests.Deploy;

/// <summary>An overlay of <c>deploy/kubernetes</c> as <c>kubectl kustomize</c> renders it, every object loaded
/// strictly into the Kubernetes client's typed models (an unknown field or kind fails the load). Rendered once
/// per overlay and shared by the tests.</summary>
public sealed class RenderedManifests
{
    private static readonly ConcurrentDictionary<string, Lazy<RenderedManifests>> Rendered = new();

    public string Overlay { get; }
    public IReadOnlyList<object> Objects { get; }

    private RenderedManifests(string overlay, IReadOnlyList<object> objects)
    {
        Overlay = overlay;
        Objects = objects;
    }

    public static string PathOf(string relative) => Path.Combine(BuildOutput.SolutionRoot, "deploy", "kubernetes", relative);

    /// <summary>An overlay by its folder name under <c>deploy/kubernetes/overlays</c>.</summary>
    public static RenderedManifests Of(string overlay) =>
        Rendered.GetOrAdd(overlay, o => new Lazy<RenderedManifests>(() => Render(o))).Value;

    private static RenderedManifests Render(string overlay)
    {
        var yaml = Kubectl.Kustomize(PathOf(Path.Combine("overlays", overlay)));
        return new RenderedManifests(overlay, LoadStrictly(yaml, overlay));
    }

    public static List<object> LoadStrictly(string yaml, string what)
    {
        try
        {
            return KubernetesYaml.LoadAllFromString(yaml, strict: true);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: an object does not match the Kubernetes schema: {e.Message}");
            throw;
        }
    }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T Named<T>(string name) where T : IMetadata<V1ObjectMeta> =>
        All<T>().SingleOrDefault(o => o.Metadata.Name == name)
        ?? throw new AssertFailedException($"{Overlay}: no {typeof(T).Name} named {name}");

    public V1Deployment Silos => Named<V1Deployment>("imorleans-silo");
    public V1Deployment Gateways => Named<V1Deployment>("imorleans-gateway");

    /// <summary>Every pod template: Deployments and StatefulSets.</summary>
    public IEnumerable<(string Workload, V1PodTemplateSpec Pod)> PodTemplates =>
        All<V1Deployment>().Select(d => ($"Deployment {d.Metadata.Name}", d.Spec.Template))
            .Concat(All<V1StatefulSet>().Select(s => ($"StatefulSet {s.Metadata.Name}", s.Spec.Template)));

    /// <summary>The Services whose selector picks the pods of <paramref name="pod"/>.</summary>
    public IEnumerable<V1Service> ServicesOf(V1PodTemplateSpec pod) =>
        All<V1Service>().Where(s => s.Spec.Selector is { Count: > 0 } selector
            && selector.All(l => pod.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    public bool Selects(V1LabelSelector selector, V1PodTemplateSpec pod) =>
        selector.MatchLabels.All(l => pod.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value);
}
