using System.Globalization;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Yac.Gateway.Sockets;

namespace Yac.UnitTests.Deployment;

/// <summary>
/// Renders every overlay of <c>deploy/kubernetes</c> with <c>kubectl kustomize</c> (offline, no
/// cluster) and checks what a reviewer would: probes, resources, the environment each service reads
/// (from its own sources), images of this repository, Secret keys that exist, replicas per overlay,
/// the gateway's drain, PodDisruptionBudget, HorizontalPodAutoscaler and Ingress.
/// </summary>
public sealed class KubernetesManifestTests
{
    private const string SecretName = "yac-connection-strings";
    private const string MigrationsKey = "Yac__Database__Migrations";

    /// <summary>Replicas of gateway, chat and identity that each overlay asks for.</summary>
    private static readonly Dictionary<string, Dictionary<string, int>> s_expectedReplicas = new()
    {
        ["dev"] = new() { ["gateway"] = 1, ["chat"] = 1, ["identity"] = 1 },
        ["production"] = new() { ["gateway"] = 3, ["chat"] = 2, ["identity"] = 2 },
    };

    public static TheoryData<string> Overlays => [.. RenderedOverlay.OverlayNames];

    public static TheoryData<string, string> OverlaysAndServices
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var overlay in RenderedOverlay.OverlayNames)
            {
                foreach (var service in ServiceProject.Folders.Keys)
                {
                    data.Add(overlay, service);
                }
            }

            return data;
        }
    }

    [Fact]
    public void EveryOverlayHasExpectedReplicasToBeCheckedAgainst()
    {
        Assert.Equal(s_expectedReplicas.Keys.Order(StringComparer.Ordinal), RenderedOverlay.OverlayNames);
    }

    [Theory]
    [MemberData(nameof(OverlaysAndServices))]
    public async Task EveryServiceIsProbedResourcedAndImagedFromThisRepository(string overlayName, string service)
    {
        var overlay = await RenderedOverlay.RenderAsync(overlayName);
        var project = ServiceProject.Read(service);
        var deployment = overlay.Deployment(service);
        var pod = deployment.Spec.Template.Spec;
        var container = deployment.Container(service);

        Assert.Equal(s_expectedReplicas[overlayName][service], deployment.Spec.Replicas);
        Assert.True(pod.SecurityContext?.RunAsNonRoot, $"{service}: runAsNonRoot");

        var port = Assert.Single(container.Ports);
        Assert.Equal(("http", project.ContainerPort), (port.Name, port.ContainerPort));
        Assert.Equal(project.ContainerPort.ToString(CultureInfo.InvariantCulture), container.EnvValue("ASPNETCORE_HTTP_PORTS"));

        AssertHttpProbe(container.ReadinessProbe, "/health", $"{service} readiness");
        AssertHttpProbe(container.LivenessProbe, "/alive", $"{service} liveness");

        foreach (var each in pod.AllContainers())
        {
            AssertImageOfThisRepository(each.Image, project.ContainerRepository, $"{service}/{each.Name}");
            AssertRequestsAndLimits(each.Resources, $"{service}/{each.Name}");
        }

        var kubernetesService = overlay.All<V1Service>().Single(candidate => candidate.Metadata.Name == service);
        Assert.All(deployment.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, kubernetesService.Spec.Selector[label.Key]));
        Assert.Contains(kubernetesService.Spec.Ports, servicePort => servicePort.Port == 80 && servicePort.TargetPort.Value == "http");
    }

    [Theory]
    [MemberData(nameof(OverlaysAndServices))]
    public async Task EveryServiceGetsTheConnectionStringsAndServiceAddressesItReads(string overlayName, string service)
    {
        var overlay = await RenderedOverlay.RenderAsync(overlayName);
        var project = ServiceProject.Read(service);
        var deployment = overlay.Deployment(service);
        var container = deployment.Container(service);
        Assert.NotEmpty(project.ConnectionNames);

        foreach (var connection in project.ConnectionNames)
        {
            var variable = Assert.Single(container.Env, each => each.Name == $"ConnectionStrings__{connection}");
            var key = variable.ValueFrom?.SecretKeyRef;
            Assert.True(key is not null, $"{service}: ConnectionStrings__{connection} comes from a Secret");
            Assert.StartsWith(SecretName, key.Name, StringComparison.Ordinal);
            Assert.Equal(connection, key.Key);
        }

        foreach (var discovered in project.DiscoveredServices)
        {
            // Aspire's service discovery reads services__<name>__<endpoint>__<index>.
            Assert.Equal($"http://{discovered}", container.EnvValue($"services__{discovered}__http__0"));
            Assert.Contains(overlay.All<V1Service>(), candidate => candidate.Metadata.Name == discovered);
        }

        Assert.Contains(container.EnvFrom, source => source.ConfigMapRef?.Name.StartsWith("yac-telemetry", StringComparison.Ordinal) == true);
        Assert.Equal(service, container.EnvValue("OTEL_SERVICE_NAME"));

        if (project.HasDatabase)
        {
            // Migrated by an init container of the same image before the replica serves, which only verifies.
            var migrate = Assert.Single(deployment.Spec.Template.Spec.InitContainers);
            Assert.Equal(container.Image, migrate.Image);
            Assert.Equal("ApplyAndExit", migrate.EnvValue(MigrationsKey));
            Assert.Equal("Verify", container.EnvValue(MigrationsKey));
            Assert.All(project.ConnectionNames, connection => Assert.Contains(migrate.Env, each => each.Name == $"ConnectionStrings__{connection}"));
        }
        else
        {
            Assert.Null(deployment.Spec.Template.Spec.InitContainers);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task EverySecretKeyReferencedIsRenderedOrDocumented(string overlayName)
    {
        var overlay = await RenderedOverlay.RenderAsync(overlayName);
        var references = overlay.All<V1Deployment>()
            .SelectMany(deployment => deployment.Spec.Template.Spec.AllContainers())
            .SelectMany(container => container.Env ?? [])
            .Select(variable => variable.ValueFrom?.SecretKeyRef)
            .OfType<V1SecretKeySelector>()
            .ToList();
        Assert.NotEmpty(references);

        foreach (var reference in references)
        {
            var secret = overlay.All<V1Secret>().SingleOrDefault(candidate => candidate.Metadata.Name == reference.Name);
            if (secret is not null)
            {
                Assert.True(secret.Data?.ContainsKey(reference.Key) == true || secret.StringData?.ContainsKey(reference.Key) == true,
                    $"{overlayName}: Secret {reference.Name} has no key {reference.Key}");
                continue;
            }

            // Not rendered (no credentials in git): the overlay documents it in <secret>.env.example.
            var example = Path.Combine(overlay.Directory, $"{reference.Name}.env.example");
            Assert.True(File.Exists(example), $"{overlayName}: Secret {reference.Name} is neither rendered nor documented in {example}");
            var keys = File.ReadAllLines(example)
                .Where(line => line.Length > 0 && !line.StartsWith('#'))
                .Select(line => line[..line.IndexOf('=', StringComparison.Ordinal)])
                .ToHashSet(StringComparer.Ordinal);
            Assert.True(keys.Contains(reference.Key), $"{overlayName}: {example} documents no key {reference.Key} of Secret {reference.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public async Task TheGatewayDrainsWithinItsGracePeriodAndHasADisruptionBudgetAnAutoscalerAndAnIngress(string overlayName)
    {
        var overlay = await RenderedOverlay.RenderAsync(overlayName);
        var gateway = overlay.Deployment("gateway");
        var pod = gateway.Spec.Template.Spec;
        var container = gateway.Container("gateway");

        // preStop, then SIGTERM: 1012 to every socket at once, and the host waits at most its
        // shutdown timeout for them (each close handshake at most CloseTimeout) before it exits.
        var preStop = TimeSpan.FromSeconds(container.Lifecycle?.PreStop?.Sleep?.Seconds ?? 0);
        var drain = new HostOptions().ShutdownTimeout;
        Assert.True(new GatewayOptions().CloseTimeout < drain);
        Assert.True(TimeSpan.FromSeconds(pod.TerminationGracePeriodSeconds ?? 30) > preStop + drain,
            $"terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds} must exceed preStop {preStop} + the host's shutdown timeout {drain}");
        Assert.Equal(0, int.Parse(gateway.Spec.Strategy.RollingUpdate.MaxUnavailable.Value, CultureInfo.InvariantCulture));

        var budget = Assert.Single(overlay.All<V1PodDisruptionBudget>());
        Assert.Equal(gateway.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);
        Assert.Equal("1", budget.Spec.MaxUnavailable?.Value);

        var autoscaler = Assert.Single(overlay.All<V2HorizontalPodAutoscaler>());
        Assert.Equal(("Deployment", "gateway"), (autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.Equal(gateway.Spec.Replicas, autoscaler.Spec.MinReplicas);
        Assert.True(autoscaler.Spec.MaxReplicas >= autoscaler.Spec.MinReplicas);
        Assert.Contains(autoscaler.Spec.Metrics, metric => metric.Resource?.Name == "cpu");

        var ingress = Assert.Single(overlay.All<V1Ingress>());
        var backend = Assert.Single(ingress.Spec.Rules.SelectMany(rule => rule.Http.Paths)).Backend.Service;
        Assert.Equal(("gateway", "http"), (backend.Name, backend.Port.Name));
        // A WebSocket outlives any default proxy timeout (60 s): the Ingress must keep it far longer than a heartbeat.
        var heartbeat = TimeSpan.FromSeconds(new GatewayOptions().HeartbeatSeconds);
        foreach (var annotation in new[] { "nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout" })
        {
            Assert.True(ingress.Metadata.Annotations.TryGetValue(annotation, out var seconds), $"{overlayName}: Ingress lacks {annotation}");
            Assert.True(TimeSpan.FromSeconds(int.Parse(seconds, CultureInfo.InvariantCulture)) >= 10 * heartbeat, $"{annotation} = {seconds}");
        }
    }

    private static void AssertHttpProbe(V1Probe? probe, string path, string what)
    {
        Assert.True(probe?.HttpGet is not null, $"{what}: an HTTP probe");
        Assert.Equal((path, "http"), (probe.HttpGet.Path, probe.HttpGet.Port.Value));
    }

    private static void AssertImageOfThisRepository(string image, string repository, string what)
    {
        // registry/yac/gateway:tag or yac/gateway:tag: the repository that the csproj's PublishContainer pushes, and a tag.
        var tagAt = image.LastIndexOf(':');
        Assert.True(tagAt > image.LastIndexOf('/'), $"{what}: image {image} names a tag");
        var name = image[..tagAt];
        Assert.True(name == repository || name.EndsWith("/" + repository, StringComparison.Ordinal),
            $"{what}: image {image} is not this repository's {repository}");
    }

    private static void AssertRequestsAndLimits(V1ResourceRequirements? resources, string what)
    {
        foreach (var resource in new[] { "cpu", "memory" })
        {
            Assert.True(resources?.Requests?.ContainsKey(resource) == true, $"{what}: requests {resource}");
            Assert.True(resources.Limits?.ContainsKey(resource) == true, $"{what}: limits {resource}");
            Assert.True(resources.Requests[resource].ToDecimal() <= resources.Limits[resource].ToDecimal(),
                $"{what}: {resource} request {resources.Requests[resource]} above its limit {resources.Limits[resource]}");
        }
    }
}
