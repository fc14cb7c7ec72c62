using ImOrleans.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;

namespace ImOrleans.Tests.Deploy;

/// <summary>The silo turns Orleans Kubernetes hosting on in a pod of a cluster, and only there (its options
/// validation fails outside a pod).</summary>
[TestClass]
public sealed class KubernetesHostingTests
{
    [TestMethod]
    [DataRow("PostgreSQL", "imorleans", true, DisplayName = "cluster silo in a pod")]
    [DataRow("PostgreSQL", null, false, DisplayName = "cluster silo outside Kubernetes")]
    [DataRow("Sqlite", "imorleans", false, DisplayName = "embedded default in a pod")]
    public void SiloUsesKubernetesHostingOnlyInAPodOfACluster(string provider, string? podNamespace, bool expected)
    {
        var builder = WebApplication.CreateBuilder([$"--Storage:Provider={provider}", "--Storage:PostgreSQL=Host=unused"]);
        using var configuration = builder.Configuration; // never built into an app; this ends its file watchers
        // Set or cleared whatever the environment of this test run holds.
        builder.Configuration[KubernetesHostingOptions.PodNamespaceEnvironmentVariable] = podNamespace;

        builder.AddImSilo();

        var kubernetes = builder.Services.Any(s => s.ServiceType == typeof(IValidateOptions<KubernetesHostingOptions>));
        Assert.AreEqual(expected, kubernetes);
    }
}
