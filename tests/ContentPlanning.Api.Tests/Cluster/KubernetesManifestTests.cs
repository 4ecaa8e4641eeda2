using System.Diagnostics;
using System.Text.Json.Serialization;
using ContentPlanning.Api.Tests.Infrastructure;
using k8s;
using k8s.Models;

namespace ContentPlanning.Api.Tests.Cluster;

/// <summary>deploy/kubernetes renders with kustomize, parses strictly as Kubernetes objects, and sets only documented settings.</summary>
public sealed class KubernetesManifestTests
{
    private const string Kubectl = "/usr/bin/kubectl";

    private static readonly Dictionary<string, Type> CustomResources = new() { ["monitoring.coreos.com/v1/ServiceMonitor"] = typeof(ServiceMonitor) };

    private static async Task<List<object>> RenderAsync(string folder)
    {
        if (!File.Exists(Kubectl))
        {
            Assert.Ignore($"{Kubectl} is not installed: the manifests were not rendered (Debian's kubernetes-client or any kubectl >= 1.27 renders them).");
        }

        var start = new ProcessStartInfo(Kubectl, ["kustomize", Path.Combine(NginxCluster.RepositoryRoot, "deploy/kubernetes", folder)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, await errors);
        // strict: an unknown or misspelt field anywhere is an error, as the API server's strict field validation does.
        return KubernetesYaml.LoadAllFromString(await output, CustomResources, strict: true).ToList();
    }

    [TestCase("base")]
    [TestCase("overlays/example")]
    public async Task TheManifestsRenderAndEveryObjectParsesStrictly(string folder)
    {
        var objects = await RenderAsync(folder);
        var kinds = objects.Select(o => ((IKubernetesObject)o).Kind).Order().ToList();
        Assert.That(kinds, Is.SupersetOf(new[]
        {
            "ConfigMap", "Deployment", "Deployment", "HorizontalPodAutoscaler", "Job", "NetworkPolicy", "PodDisruptionBudget", "Secret", "Service", "ServiceMonitor",
        }));
    }

    [Test]
    public async Task TheApiDeploymentDrainsBeforeItIsKilledAndNeverGoesBelowItsReplicas()
    {
        var objects = await RenderAsync("overlays/example");
        var api = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "content-planning-api");
        var worker = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "content-planning-worker");
        var settings = objects.OfType<V1ConfigMap>().Single().Data;
        var pod = api.Spec.Template.Spec;
        var container = pod.Containers.Single();
        var shutdown = TimeSpan.Parse(settings["Shutdown__Timeout"], System.Globalization.CultureInfo.InvariantCulture);
        string? Env(V1Deployment d, string name) => d.Spec.Template.Spec.Containers.Single().Env.SingleOrDefault(e => e.Name == name)?.Value;

        Assert.Multiple(() =>
        {
            Assert.That(container.StartupProbe.HttpGet.Path, Does.StartWith("/health/"));
            Assert.That(container.ReadinessProbe.HttpGet.Path, Is.EqualTo("/health/ready"));
            Assert.That(container.LivenessProbe.HttpGet.Path, Is.EqualTo("/health/live"));
            Assert.That(api.Spec.Strategy.RollingUpdate.MaxUnavailable.Value, Is.EqualTo("0"));
            Assert.That(container.Lifecycle.PreStop.Sleep.Seconds, Is.GreaterThan(0));
            Assert.That(pod.TerminationGracePeriodSeconds, Is.GreaterThan(container.Lifecycle.PreStop.Sleep.Seconds + (long)shutdown.TotalSeconds));
            Assert.That(container.Resources.Requests.Keys, Is.SupersetOf(new[] { "cpu", "memory" }));
            Assert.That(pod.TopologySpreadConstraints, Is.Not.Empty);
            Assert.That(settings["Database__MigrateOnStart"], Is.EqualTo("false"), "the migrate Job migrates; pods do not");
            Assert.That(objects.OfType<V1Job>().Single().Spec.Template.Spec.Containers.Single().Args, Is.EqualTo(new[] { "migrate" }));
            Assert.That(Env(api, "CalendarJobs__WorkersPerNode"), Is.EqualTo("0"));
            Assert.That(int.Parse(Env(worker, "CalendarJobs__WorkersPerNode")!, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
            Assert.That(objects.OfType<V1Ingress>().Single().Spec.Rules.SelectMany(r => r.Http.Paths).Select(p => p.Path), Has.None.StartWith("/metrics").And.None.StartWith("/hangfire"));
        });
    }

    [Test]
    public async Task EveryEnvironmentVariableTheManifestsSetIsADocumentedSetting()
    {
        var objects = await RenderAsync("overlays/example");
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var map in objects.OfType<V1ConfigMap>())
        {
            names.UnionWith(map.Data.Keys);
        }

        foreach (var secret in objects.OfType<V1Secret>())
        {
            names.UnionWith(secret.StringData?.Keys ?? []);
            names.UnionWith(secret.Data?.Keys ?? []);
        }

        var podSpecs = objects.OfType<V1Deployment>().Select(d => d.Spec.Template.Spec).Concat(objects.OfType<V1Job>().Select(j => j.Spec.Template.Spec));
        names.UnionWith(podSpecs.SelectMany(p => p.Containers).SelectMany(c => c.Env ?? []).Select(e => e.Name));

        var readme = await File.ReadAllTextAsync(Path.Combine(NginxCluster.RepositoryRoot, "README.md"));
        Assert.That(names, Is.Not.Empty);
        Assert.That(names.Where(n => !readme.Contains($"`{n}`", StringComparison.Ordinal)), Is.Empty, "settings the manifests set but README's Configuration does not name");
    }

    /// <summary>The Prometheus Operator's ServiceMonitor, as far as these manifests use it (strict parsing rejects anything else).</summary>
    public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
    {
        [JsonPropertyName("apiVersion")]
        public string ApiVersion { get; set; } = "";

        [JsonPropertyName("kind")]
        public string Kind { get; set; } = "";

        [JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();

        [JsonPropertyName("spec")]
        public MonitorSpec Spec { get; set; } = new();
    }

    public sealed class MonitorSpec
    {
        [JsonPropertyName("selector")]
        public V1LabelSelector Selector { get; set; } = new();

        [JsonPropertyName("endpoints")]
        public List<MonitorEndpoint> Endpoints { get; set; } = [];
    }

    public sealed class MonitorEndpoint
    {
        [JsonPropertyName("port")]
        public string Port { get; set; } = "";

        [JsonPropertyName("path")]
        public string Path { get; set; } = "";

        [JsonPropertyName("interval")]
        public string Interval { get; set; } = "";
    }
}
