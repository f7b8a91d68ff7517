using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Yac.Tests.Foundation;

/// <summary>
/// The AppHost under <c>--operation publish</c> (what <c>aspire publish</c> runs): PostgreSQL and
/// Redis become connection-string parameters, and nothing of this machine (local processes,
/// paths, generated passwords) reaches the published model. No topology starts.
/// </summary>
public sealed class PublishModeTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PublishModeDeclaresConnectionStringParametersAndNoLocalProcess()
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        var output = Directory.CreateTempSubdirectory("yac-publish-");
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Yac_AppHost>(
                ["--operation", "publish", "--publisher", "manifest", "--output-path", output.FullName],
                timeout.Token);

            Assert.True(builder.ExecutionContext.IsPublishMode);
            Assert.Empty(builder.Resources.OfType<ExecutableResource>());
            Assert.Empty(builder.Resources.OfType<ContainerResource>());
            foreach (var name in new[] { "identitydb", "chatdb", "redis" })
            {
                var resource = Assert.Single(builder.Resources, resource => resource.Name == name);
                // A parameter that holds the whole connection string, supplied at deploy time.
                Assert.IsAssignableFrom<ParameterResource>(resource);
                Assert.IsAssignableFrom<IResourceWithConnectionString>(resource);
            }

            Assert.DoesNotContain(builder.Resources.OfType<ParameterResource>(), parameter => parameter.Name.Contains("password", StringComparison.Ordinal));

            await using var app = await builder.BuildAsync(timeout.Token);
            await app.StartAsync(timeout.Token);
            var manifestPath = Path.Combine(output.FullName, "aspire-manifest.json");
            await WaitForFileAsync(manifestPath, timeout.Token);
            var manifest = await File.ReadAllTextAsync(manifestPath, timeout.Token);

            using var document = JsonDocument.Parse(manifest);
            var resources = document.RootElement.GetProperty("resources").EnumerateObject()
                .ToDictionary(resource => resource.Name, resource => resource.Value.GetProperty("type").GetString());
            Assert.Equal("parameter.v0", resources["identitydb"]);
            Assert.Equal("parameter.v0", resources["chatdb"]);
            Assert.Equal("parameter.v0", resources["redis"]);
            Assert.Equal(["chat", "chatdb", "gateway", "identity", "identitydb", "redis"], resources.Keys.Order(StringComparer.Ordinal));
            Assert.DoesNotContain("executable.v0", manifest, StringComparison.Ordinal);
            Assert.DoesNotContain("/var/lib/yac", manifest, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetTempPath(), manifest, StringComparison.Ordinal);
            Assert.DoesNotContain("Password=", manifest, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task WaitForFileAsync(string path, CancellationToken cancellationToken)
    {
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }
}
