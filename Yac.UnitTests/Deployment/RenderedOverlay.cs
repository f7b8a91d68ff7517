using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using k8s;
using k8s.Models;

namespace Yac.UnitTests.Deployment;

/// <summary>
/// One overlay of <c>deploy/kubernetes</c> as <c>kubectl kustomize</c> renders it, parsed into the
/// Kubernetes client's typed models.
/// </summary>
internal sealed class RenderedOverlay
{
    private static readonly TimeSpan s_renderTimeout = TimeSpan.FromSeconds(60);

    // Each overlay is rendered once per test run, whichever tests ask for it.
    private static readonly ConcurrentDictionary<string, Lazy<Task<RenderedOverlay>>> s_rendered = new(StringComparer.Ordinal);

    private RenderedOverlay(string name, string directory, IReadOnlyList<object> objects)
    {
        Name = name;
        Directory = directory;
        Objects = objects;
    }

    public string Name { get; }

    /// <summary>The overlay's folder.</summary>
    public string Directory { get; }

    public IReadOnlyList<object> Objects { get; }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public V1Deployment Deployment(string name) =>
        All<V1Deployment>().SingleOrDefault(deployment => deployment.Metadata.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"overlay {Name} renders no Deployment '{name}'");

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string OverlaysDirectory => Path.Combine(RepositoryRoot, "deploy", "kubernetes", "overlays");

    public static IEnumerable<string> OverlayNames =>
        System.IO.Directory.EnumerateDirectories(OverlaysDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static Task<RenderedOverlay> RenderAsync(string name) =>
        s_rendered.GetOrAdd(name, key => new Lazy<Task<RenderedOverlay>>(() => RenderNowAsync(key, CancellationToken.None))).Value;

    private static async Task<RenderedOverlay> RenderNowAsync(string name, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(OverlaysDirectory, name);
        var yaml = await KustomizeAsync(directory, cancellationToken);
        return new RenderedOverlay(name, directory, KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true));
    }

    private static async Task<string> KustomizeAsync(string directory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("kubectl", ["kustomize", directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        }
        catch (Win32Exception exception)
        {
            throw new Xunit.Sdk.XunitException(
                $"kubectl is not installed (or not on PATH): the Kubernetes manifests cannot be rendered to be checked ({exception.Message}). "
                + "Install kubectl 1.24 or later (its built-in kustomize renders them); no cluster is needed.");
        }

        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_renderTimeout);
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"kubectl kustomize {directory} did not finish within {s_renderTimeout.TotalSeconds:0} s");
            }

            if (process.ExitCode != 0)
            {
                throw new Xunit.Sdk.XunitException($"kubectl kustomize {directory} exited with {process.ExitCode}: {await errors}");
            }

            return await output;
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Yac.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Yac.sln above {AppContext.BaseDirectory}: the tests must run from the repository's build output.");
    }
}

internal static class KubernetesModelExtensions
{
    public static V1Container Container(this V1Deployment deployment, string name) =>
        deployment.Spec.Template.Spec.Containers.SingleOrDefault(container => container.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"Deployment {deployment.Metadata.Name} has no container '{name}'");

    public static IEnumerable<V1Container> AllContainers(this V1PodSpec pod) =>
        pod.Containers.Concat(pod.InitContainers ?? []);

    public static string? EnvValue(this V1Container container, string name) =>
        container.Env?.SingleOrDefault(variable => variable.Name == name)?.Value;

    public static bool HasLabel(this V1ObjectMeta metadata, string key, string value) =>
        metadata.Labels is not null && metadata.Labels.TryGetValue(key, out var actual) && actual == value;
}
