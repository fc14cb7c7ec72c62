using k8s.Models;

namespace ImOrleans.Tests.Deploy;

/// <summary>The silo and gateway containers of an overlay, each with its image's Dockerfile and the configuration
/// it starts with.</summary>
public sealed record AppContainer(string Workload, V1PodTemplateSpec Pod, V1Container Container, Dockerfile Image, ContainerConfiguration Config)
{
    public bool IsSilo => Image.Project == "Silo";

    /// <summary>The container port of that name, or null.</summary>
    public int? Port(string name) => Container.Ports?.SingleOrDefault(p => p.Name == name)?.ContainerPort;

    public static IReadOnlyList<AppContainer> Of(RenderedManifests manifests)
    {
        var apps = (
            from t in manifests.PodTemplates
            from c in t.Pod.Spec.Containers
            let image = ContainerConfiguration.ImageOf(c)
            where image is not null
            select new AppContainer(t.Workload, t.Pod, c, image, ContainerConfiguration.Of(manifests, c, image))).ToList();
        Assert.AreEqual(1, apps.Count(a => a.IsSilo), $"{manifests.Overlay}: one silo workload");
        Assert.AreEqual(1, apps.Count(a => !a.IsSilo), $"{manifests.Overlay}: one gateway workload");
        return apps;
    }

    public static AppContainer Silo(RenderedManifests manifests) => Of(manifests).Single(a => a.IsSilo);
    public static AppContainer Gateway(RenderedManifests manifests) => Of(manifests).Single(a => !a.IsSilo);
}
