using ImOrleans.Gateway.Auth;
using ImOrleans.Gateway.Grpc;
using ImOrleans.Gateway.Hosting;
using ImOrleans.Grains.Storage;
using ImOrleans.Silo.Hosting;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ImOrleans.Tests.Deploy;

/// <summary><c>deploy/kubernetes</c>: every overlay rendered by kustomize, loaded strictly against the Kubernetes
/// schema, and checked against what the app actually reads and serves.</summary>
[TestClass]
public sealed class KubernetesManifestTests
{
    private static readonly string[] PodEnvironment = ["POD_NAME", "POD_NAMESPACE", "POD_IP"];

    [TestMethod]
    public void StrictLoadingRejectsAFieldKubernetesDoesNotKnow()
    {
        // What makes the schema check worth something: a typo ("replica") loads leniently but not strictly.
        const string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 3\n";
        Assert.HasCount(1, KubernetesYaml.LoadAllFromString(yaml, strict: false));
        Assert.Throws<Exception>(() => KubernetesYaml.LoadAllFromString(yaml, strict: true));
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void TheOverlayRendersSilosGatewaysAndWhatTheyNeed(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        Assert.IsNotNull(m.Silos);
        Assert.IsNotNull(m.Gateways);
        foreach (var name in new[] { "imorleans-mqtt", "imorleans-http", "imorleans-grpc", "imorleans-silo" })
            Assert.IsNotNull(m.Named<V1Service>(name));
        Assert.IsNotNull(m.Named<V1Role>("imorleans-silo-pods"));
        Assert.HasCount(1, m.All<V1Namespace>());
        Assert.IsTrue(m.Objects.OfType<IMetadata<V1ObjectMeta>>().Where(o => o is not V1Namespace)
            .All(o => o.Metadata.NamespaceProperty == m.All<V1Namespace>().Single().Metadata.Name), "everything in the overlay's namespace");
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void ContainerPortsAreThePortsTheAppListensOn(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        foreach (var app in AppContainer.Of(m))
        {
            var http = app.Config.Bind<HttpOptions>(HttpOptions.Section);
            Assert.AreEqual("0.0.0.0", http.Address, $"{app.Workload}: HTTP reachable from outside the pod");
            Assert.AreEqual(http.Port, app.Port("http"), $"{app.Workload}: port http is Http:Port");
            if (app.IsSilo)
            {
                Assert.IsFalse(app.Config.Configuration.GetValue("Gateway:Enabled", true), "cluster silos host no gateway");
                var cluster = app.Config.Bind<SiloClusterOptions>(SiloClusterOptions.Section);
                Assert.AreEqual(cluster.SiloPort, app.Port("orleans-silo"), "port orleans-silo is Orleans:SiloPort");
                Assert.AreEqual(cluster.GatewayPort, app.Port("orleans-gw"), "port orleans-gw is Orleans:GatewayPort");
                CollectionAssert.AreEquivalent(new[] { "http", "orleans-silo", "orleans-gw" }, app.Container.Ports.Select(p => p.Name).ToList());
            }
            else
            {
                var gateway = app.Config.Bind<GatewayOptions>(GatewayOptions.Section);
                Assert.AreEqual("0.0.0.0", gateway.Address, "MQTT and gRPC reachable from outside the pod");
                Assert.AreEqual(gateway.MqttPort, app.Port("mqtt"), "port mqtt is Gateway:MqttPort");
                Assert.AreEqual(app.Config.Bind<GrpcOptions>(GrpcOptions.Section).Port, app.Port("grpc"), "port grpc is Grpc:Port");
                // The TLS listener opens only with a certificate; a declared port without one would refuse connections.
                Assert.AreEqual(string.IsNullOrEmpty(gateway.TlsCertificatePath) ? null : gateway.MqttTlsPort, app.Port("mqtt-tls"),
                    "port mqtt-tls is Gateway:MqttTlsPort, declared exactly when Gateway:TlsCertificatePath is set");
            }
            foreach (var port in app.Container.Ports)
                Assert.Contains(port.ContainerPort, app.Image.Final.ExposedPorts, $"{app.Workload}: {port.Name} is EXPOSEd by {app.Image.Project}/Dockerfile");
        }
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void EveryServiceReachesANamedPortOfThePodsItSelects(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        foreach (var service in m.All<V1Service>())
        {
            var pods = m.PodTemplates.Where(t => m.ServicesOf(t.Pod).Contains(service)).ToList();
            Assert.IsNotEmpty(pods, $"Service {service.Metadata.Name} selects some pods");
            foreach (var port in service.Spec.Ports)
                foreach (var (workload, pod) in pods)
                    Assert.IsTrue(pod.Spec.Containers.Any(c => c.Ports?.Any(p => p.Name == port.TargetPort.Value) == true),
                        $"Service {service.Metadata.Name} port {port.Name} targets {port.TargetPort.Value}, a named port of {workload}");
        }
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void ImagesAreTheSiloAndGatewayImagesAtAPinnedVersion(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        StringAssert.Contains(m.Silos.Spec.Template.Spec.Containers.Single().Image, "/silo:");
        StringAssert.Contains(m.Gateways.Spec.Template.Spec.Containers.Single().Image, "/gateway:");
        foreach (var (workload, pod) in m.PodTemplates)
            foreach (var c in pod.Spec.Containers)
            {
                var tag = c.Image.Contains(':') ? c.Image[(c.Image.LastIndexOf(':') + 1)..] : "";
                Assert.IsTrue(tag.Length > 0 && tag != "latest", $"{workload}: image {c.Image} names a version");
            }
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void ProbesAskHealthzAndReadyzOnTheHttpPort(string overlay)
    {
        foreach (var app in AppContainer.Of(RenderedManifests.Of(overlay)))
        {
            var c = app.Container;
            Assert.AreEqual("/healthz", c.LivenessProbe?.HttpGet?.Path, $"{app.Workload}: liveness");
            Assert.AreEqual("/readyz", c.ReadinessProbe?.HttpGet?.Path, $"{app.Workload}: readiness");
            foreach (var probe in new[] { c.LivenessProbe, c.ReadinessProbe, c.StartupProbe }.OfType<V1Probe>())
                Assert.AreEqual("http", probe.HttpGet.Port.Value, $"{app.Workload}: probes on the HTTP port");
            if (c.StartupProbe is { } startup)
                Assert.AreEqual("/healthz", startup.HttpGet.Path, $"{app.Workload}: startup");
        }
    }

    [TestMethod]
    public async Task TheProbedPathsAreEndpointsTheAppMaps()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddImHttp();
        await using var app = builder.Build(); // built, never started: the routes are all it is asked for
        app.MapImHealth();
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText).ToList();
        CollectionAssert.IsSubsetOf(new[] { "/healthz", "/readyz" }, routes);
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void SilosRunOrleansKubernetesHostingWithTheClustersLabelsAndPodAddress(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        var silo = AppContainer.Silo(m);
        var gateway = AppContainer.Gateway(m);
        var env = silo.Container.Env.ToList();
        foreach (var (name, field) in new[] { ("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"), ("POD_IP", "status.podIP") })
            Assert.AreEqual(field, env.SingleOrDefault(e => e.Name == name)?.ValueFrom?.FieldRef?.FieldPath, $"{name} from the downward API");
        // Kubernetes expands $(POD_IP) only from variables listed before it.
        var advertised = env.FindIndex(e => e.Name == "Orleans__AdvertisedIP");
        Assert.IsGreaterThanOrEqualTo(0, advertised, "Orleans:AdvertisedIP is set");
        Assert.AreEqual("$(POD_IP)", env[advertised].Value);
        Assert.IsLessThan(advertised, env.FindIndex(e => e.Name == "POD_IP"), "POD_IP comes before Orleans__AdvertisedIP");

        var ids = silo.Config.Bind<SiloClusterOptions>(SiloClusterOptions.Section);
        Assert.AreEqual(ids.ServiceId, silo.Pod.Metadata.Labels["orleans/serviceId"], "the label Orleans hosting selects by");
        Assert.AreEqual(ids.ClusterId, silo.Pod.Metadata.Labels["orleans/clusterId"], "the label Orleans hosting selects by");
        var gatewayIds = gateway.Config.Bind<SiloClusterOptions>(SiloClusterOptions.Section);
        Assert.AreEqual((ids.ServiceId, ids.ClusterId), (gatewayIds.ServiceId, gatewayIds.ClusterId), "gateways join the silos' cluster");

        foreach (var app in new[] { silo, gateway })
        {
            Assert.IsTrue(app.Config.Bind<StorageOptions>(StorageOptions.Section).IsPostgres, $"{app.Workload}: cluster mode (Storage:Provider=PostgreSQL)");
            StringAssert.StartsWith(app.Config["Storage:PostgreSQL"], "secret:", $"{app.Workload}: the connection string from a secret");
        }
        Assert.AreEqual(silo.Config["Storage:PostgreSQL"], gateway.Config["Storage:PostgreSQL"], "one database for silos and gateways");
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void TheSiloServiceAccountMayDoWhatOrleansKubernetesHostingCalls(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        var pod = m.Silos.Spec.Template.Spec;
        var account = m.Named<V1ServiceAccount>(pod.ServiceAccountName);
        Assert.AreNotEqual(false, pod.AutomountServiceAccountToken ?? account.AutomountServiceAccountToken, "silos get the token the Kubernetes client uses");

        var verbs = VerbsOnPods(m, account);
        // Orleans' KubernetesClusterAgent reads its own pod, patches the Orleans labels onto it, and lists and
        // watches the cluster's pods; it deletes pods only with DeleteDefunctSiloPods, which stays off.
        CollectionAssert.IsSubsetOf(new[] { "get", "list", "watch", "patch" }, verbs.ToList());
        CollectionAssert.IsSubsetOf(verbs.ToList(), new[] { "get", "list", "watch", "patch" }, "nothing more");

        var gateways = m.Gateways.Spec.Template.Spec;
        Assert.IsEmpty(VerbsOnPods(m, m.Named<V1ServiceAccount>(gateways.ServiceAccountName)), "gateways get no Kubernetes API rights");
        Assert.IsFalse(gateways.AutomountServiceAccountToken ?? true, "nor a token");
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void EverySecretAndConfigMapAPodUsesExistsWithTheKeysItReads(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        foreach (var (workload, pod) in m.PodTemplates)
        {
            foreach (var c in pod.Spec.Containers)
            {
                foreach (var v in c.Env ?? [])
                {
                    if (v.ValueFrom?.SecretKeyRef is { } s)
                        AssertSecretKey(m, s.Name, s.Key, $"{workload}: env {v.Name}");
                    if (v.ValueFrom?.ConfigMapKeyRef is { } k)
                        Assert.IsTrue(m.Named<V1ConfigMap>(k.Name).Data.ContainsKey(k.Key), $"{workload}: env {v.Name} reads ConfigMap {k.Name} key {k.Key}");
                }
                foreach (var from in c.EnvFrom ?? [])
                {
                    if (from.ConfigMapRef is { } cm)
                        Assert.IsNotNull(m.Named<V1ConfigMap>(cm.Name));
                    if (from.SecretRef is { } sr)
                        Assert.IsNotNull(m.Named<V1Secret>(sr.Name));
                }
            }
            foreach (var volume in pod.Spec.Volumes ?? [])
            {
                if (volume.Secret is not { } secret)
                    continue;
                Assert.IsNotNull(m.Named<V1Secret>(secret.SecretName), $"{workload}: volume {volume.Name}");
                foreach (var item in secret.Items ?? [])
                    AssertSecretKey(m, secret.SecretName, item.Key, $"{workload}: volume {volume.Name}");
            }
        }
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void EnvironmentVariablesAreConfigurationKeysTheAppReads(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        var unknown = (
            from app in AppContainer.Of(m)
            from name in ContainerConfiguration.NamesSetBy(m, app.Container)
            where !PodEnvironment.Contains(name) && !name.StartsWith("DOTNET_") && !name.StartsWith("ASPNETCORE_") && !name.StartsWith("OTEL_")
            where !name.Contains("__") || !DocumentedKeys.Contains(name.Replace("__", ":"))
            select $"{app.Workload}: {name}").ToList();
        Assert.IsEmpty(unknown, "names that no key of README.md's configuration table matches: " + string.Join(", ", unknown));
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void EveryPodRunsAsNonRootOnAReadOnlyRootFilesystem(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        foreach (var (workload, pod) in m.PodTemplates)
        {
            var podContext = pod.Spec.SecurityContext;
            Assert.IsTrue(podContext?.RunAsNonRoot, $"{workload}: runAsNonRoot");
            Assert.AreEqual("RuntimeDefault", podContext?.SeccompProfile?.Type, $"{workload}: seccomp");
            foreach (var c in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
            {
                var context = c.SecurityContext;
                Assert.IsGreaterThan(0L, context?.RunAsUser ?? podContext?.RunAsUser ?? 0, $"{workload}/{c.Name}: a non-root user id");
                Assert.IsFalse(context?.AllowPrivilegeEscalation ?? true, $"{workload}/{c.Name}: allowPrivilegeEscalation false");
                Assert.IsTrue(context?.ReadOnlyRootFilesystem, $"{workload}/{c.Name}: readOnlyRootFilesystem");
                Assert.IsFalse(context?.Privileged ?? false, $"{workload}/{c.Name}: not privileged");
                CollectionAssert.Contains(context?.Capabilities?.Drop?.ToList() ?? [], "ALL", $"{workload}/{c.Name}: drops every capability");
            }
        }

        foreach (var app in AppContainer.Of(m))
        {
            var uid = long.Parse(app.Image.Final.User!.Split(':')[0]);
            Assert.AreEqual(uid, app.Container.SecurityContext?.RunAsUser ?? app.Pod.Spec.SecurityContext.RunAsUser, $"{app.Workload}: the image's user");
            // The runtime's scratch space, and every folder the app writes to, must be writable volumes.
            var writes = new List<string> { "/tmp" };
            var hostsGateway = !app.IsSilo || app.Config.Configuration.GetValue("Gateway:Enabled", true);
            if (hostsGateway && string.IsNullOrEmpty(app.Config["Auth:SigningKey"]))
                writes.Add(Path.GetDirectoryName(app.Config.Bind<AuthOptions>(AuthOptions.Section).SigningKeyFile)!);
            var storage = app.Config.Bind<StorageOptions>(StorageOptions.Section);
            if (!storage.IsPostgres)
                writes.Add(storage.DataDirectory);
            foreach (var folder in writes)
                Assert.IsTrue(IsWritableVolume(app, folder), $"{app.Workload}: {folder} is on a writable volume");
        }
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void ClusterGatewaysOpenNoRegistrationTakeNoPasswordsAndShareSecretKeys(string overlay)
    {
        var gateway = AppContainer.Gateway(RenderedManifests.Of(overlay));
        var options = gateway.Config.Bind<GatewayOptions>(GatewayOptions.Section);
        Assert.IsFalse(options.OpenRegistration, "Gateway:OpenRegistration=false");
        Assert.IsFalse(options.PasswordLogin, "Gateway:PasswordLogin=false");
        Assert.IsTrue(gateway.Container.Env.Any(e => e.Name == "Gateway__OpenRegistration"), "set explicitly, whatever the default");
        Assert.IsTrue(gateway.Container.Env.Any(e => e.Name == "Gateway__PasswordLogin"), "set explicitly, whatever the default");
        StringAssert.StartsWith(gateway.Config["Auth:SigningKey"], "secret:", "one signing key for all gateways, from a secret");
        StringAssert.StartsWith(gateway.Config["Grpc:ApiKeys:0"], "secret:", "the gRPC API key from a secret");
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void ShutdownFitsInTheGracePeriodAndDisruptionsTakeOnePodAtATime(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        // The host gives its services this long to stop (drain, Orleans leaving the cluster) before it gives up.
        var hostShutdown = (long)new HostOptions().ShutdownTimeout.TotalSeconds;
        foreach (var deployment in new[] { m.Silos, m.Gateways })
        {
            var pod = deployment.Spec.Template.Spec;
            var preStop = pod.Containers.Single().Lifecycle?.PreStop?.Sleep?.Seconds ?? 0;
            Assert.IsGreaterThanOrEqualTo(preStop + hostShutdown, pod.TerminationGracePeriodSeconds ?? 30,
                $"{deployment.Metadata.Name}: the grace period covers preStop ({preStop} s) and the host's shutdown ({hostShutdown} s)");
            Assert.AreEqual("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value, $"{deployment.Metadata.Name}: a rollout adds before it removes");
            var budgets = m.All<V1PodDisruptionBudget>().Where(b => m.Selects(b.Spec.Selector, deployment.Spec.Template)).ToList();
            Assert.HasCount(1, budgets, $"{deployment.Metadata.Name}: a PodDisruptionBudget");
            Assert.AreEqual("1", budgets[0].Spec.MaxUnavailable?.Value, $"{deployment.Metadata.Name}: one pod at a time");
        }
        Assert.IsGreaterThan(0L, m.Gateways.Spec.Template.Spec.Containers.Single().Lifecycle.PreStop.Sleep.Seconds,
            "gateways leave the Services before they drain, so reconnecting clients land elsewhere");
    }

    [TestMethod]
    [DataRow("dev")]
    [DataRow("production")]
    public void OnlyMqttLeavesTheClusterAndMetricsAreOnANamedHttpPort(string overlay)
    {
        var m = RenderedManifests.Of(overlay);
        foreach (var service in m.All<V1Service>().Where(s => s.Metadata.Name != "imorleans-mqtt"))
            Assert.IsTrue(service.Spec.Type is null or "ClusterIP", $"Service {service.Metadata.Name} stays inside the cluster");
        Assert.AreEqual("ClusterIP", m.Named<V1Service>("imorleans-grpc").Spec.Type, "the gRPC API is ClusterIP, said explicitly");
        Assert.AreEqual("None", m.Named<V1Service>("imorleans-silo").Spec.ClusterIP, "silos: headless, for DNS and scraping");
        foreach (var port in m.Named<V1Service>("imorleans-mqtt").Spec.Ports)
            CollectionAssert.Contains(new[] { "mqtt", "mqtt-tls" }, port.Name, "the MQTT Service carries MQTT only");

        // A ServiceMonitor selects a Service and scrapes its port by name: "http", path /metrics.
        foreach (var deployment in new[] { m.Silos, m.Gateways })
            Assert.IsTrue(m.ServicesOf(deployment.Spec.Template).Any(s => s.Spec.Ports.Any(p => p.Name == "http" && p.TargetPort.Value == "http")),
                $"{deployment.Metadata.Name}: a Service with a port named http");
    }

    private static HashSet<string> VerbsOnPods(RenderedManifests m, V1ServiceAccount account) =>
        m.All<V1RoleBinding>()
            .Where(b => b.Subjects?.Any(s => s.Kind == "ServiceAccount" && s.Name == account.Metadata.Name
                && (s.NamespaceProperty ?? b.Metadata.NamespaceProperty) == account.Metadata.NamespaceProperty) == true)
            .Select(b =>
            {
                Assert.AreEqual("Role", b.RoleRef.Kind, $"RoleBinding {b.Metadata.Name}: a namespaced Role");
                return m.Named<V1Role>(b.RoleRef.Name);
            })
            .SelectMany(r => r.Rules)
            .Where(rule => rule.ApiGroups.Contains("") && rule.Resources.Contains("pods"))
            .SelectMany(rule => rule.Verbs).ToHashSet();

    private static void AssertSecretKey(RenderedManifests m, string name, string key, string what)
    {
        var secret = m.Named<V1Secret>(name);
        Assert.IsTrue(secret.Data?.ContainsKey(key) == true || secret.StringData?.ContainsKey(key) == true, $"{what}: Secret {name} has key {key}");
    }

    private static bool IsWritableVolume(AppContainer app, string folder)
    {
        var full = Path.GetFullPath(folder, app.Image.Final.Arguments("WORKDIR").Last());
        return app.Container.VolumeMounts?.Any(mount =>
            (full + "/").StartsWith(mount.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal) && mount.ReadOnlyProperty != true
            && app.Pod.Spec.Volumes.Single(v => v.Name == mount.Name) is { EmptyDir: not null } or { PersistentVolumeClaim: not null }) == true;
    }
}
