using System.Text;
using System.Text.RegularExpressions;
using k8s.Models;
using Npgsql;

namespace ImOrleans.Tests.Deploy;

/// <summary>What sets the two overlays apart: dev is one of each with its own PostgreSQL, production is several
/// silos, autoscaled gateways, MQTT on a load balancer and an external database.</summary>
[TestClass]
public sealed class KubernetesOverlayTests
{
    [TestMethod]
    public void DevRunsOneSiloOneGatewayAndAPostgresItsConnectionStringReaches()
    {
        var m = RenderedManifests.Of("dev");
        Assert.AreEqual(1, m.Silos.Spec.Replicas);
        Assert.AreEqual(1, m.Gateways.Spec.Replicas);
        Assert.IsEmpty(m.All<V2HorizontalPodAutoscaler>(), "one gateway, not autoscaled");

        var postgres = m.Named<V1StatefulSet>("imorleans-postgres");
        var server = postgres.Spec.Template.Spec.Containers.Single();
        string Env(string name) => server.Env.Single(e => e.Name == name).Value;
        var service = m.ServicesOf(postgres.Spec.Template).Single();
        var passwordRef = server.Env.Single(e => e.Name == "POSTGRES_PASSWORD").ValueFrom.SecretKeyRef;

        var secret = AppContainer.Silo(m).Config["Storage:PostgreSQL"]!["secret:".Length..].Split('/');
        var connection = new NpgsqlConnectionStringBuilder(Encoding.UTF8.GetString(m.Named<V1Secret>(secret[0]).Data[secret[1]]));
        Assert.AreEqual(service.Metadata.Name, connection.Host, "the PostgreSQL Service");
        Assert.AreEqual(service.Spec.Ports.Single().Port, connection.Port);
        Assert.AreEqual(Env("POSTGRES_USER"), connection.Username);
        Assert.AreEqual(Env("POSTGRES_DB"), connection.Database);
        Assert.AreEqual(Encoding.UTF8.GetString(m.Named<V1Secret>(passwordRef.Name).Data[passwordRef.Key]), connection.Password);
    }

    [TestMethod]
    public void DevImagesAreTheOnesTheDeployReadmeBuilds()
    {
        // deploy/README.md: docker build -f Silo/Dockerfile -t imorleans/silo:dev .
        var readme = File.ReadAllText(RenderedManifests.PathOf(Path.Combine("..", "README.md")));
        var built = Regex.Matches(readme, @"docker build -f (\w+)/Dockerfile -t (\S+) \.")
            .ToDictionary(b => b.Groups[1].Value, b => b.Groups[2].Value);
        var m = RenderedManifests.Of("dev");
        Assert.AreEqual(built.GetValueOrDefault("Silo"), m.Silos.Spec.Template.Spec.Containers.Single().Image);
        Assert.AreEqual(built.GetValueOrDefault("Gateway"), m.Gateways.Spec.Template.Spec.Containers.Single().Image);
    }

    [TestMethod]
    public void ProductionRunsThreeSilosAutoscaledGatewaysAndNoDatabaseOfItsOwn()
    {
        var m = RenderedManifests.Of("production");
        Assert.IsGreaterThanOrEqualTo(3, m.Silos.Spec.Replicas ?? 1, "three or more silos");
        Assert.IsNull(m.Gateways.Spec.Replicas, "the autoscaler owns the gateway count; an apply must not reset it");
        var hpa = m.All<V2HorizontalPodAutoscaler>().Single();
        Assert.AreEqual(("Deployment", m.Gateways.Metadata.Name), (hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name));
        Assert.IsGreaterThanOrEqualTo(2, hpa.Spec.MinReplicas ?? 1, "a gateway can drain while another serves");
        Assert.IsGreaterThan(hpa.Spec.MinReplicas ?? 1, hpa.Spec.MaxReplicas);
        Assert.IsEmpty(m.All<V1StatefulSet>(), "PostgreSQL is external");
    }

    [TestMethod]
    public void ProductionServesMqttOverTcpAndTlsOnALoadBalancerThatKeepsClientAddresses()
    {
        var m = RenderedManifests.Of("production");
        var mqtt = m.Named<V1Service>("imorleans-mqtt");
        Assert.AreEqual("LoadBalancer", mqtt.Spec.Type);
        Assert.AreEqual("Local", mqtt.Spec.ExternalTrafficPolicy, "per-address throttles need the client's address");
        CollectionAssert.AreEquivalent(new[] { 1883, 8883 }, mqtt.Spec.Ports.Select(p => p.Port).ToList());
        var gateway = AppContainer.Gateway(m);
        Assert.AreEqual("/etc/imorleans/mqtt-tls/tls.pfx", gateway.Config["Gateway:TlsCertificatePath"]);
        Assert.IsTrue(gateway.Container.VolumeMounts.Any(v => v.MountPath == "/etc/imorleans/mqtt-tls"), "the certificate comes from a secret volume");
    }

    [TestMethod]
    public void ProductionCommitsNoSecretValues()
    {
        // The files behind production's secrets are committed empty; a process started with them refuses to start.
        foreach (var secret in RenderedManifests.Of("production").All<V1Secret>())
            foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
                Assert.IsEmpty(value ?? [], $"Secret {secret.Metadata.Name} key {key} is empty in the repository");
    }
}
