using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Yac.Tests.Client;

/// <summary><c>dotnet pack</c> of Yac.Client (the build the tests use, not built again): a package a NuGet feed takes.</summary>
public sealed class ClientPackageTests
{
    [Fact]
    public async Task PackingYacClientMakesAPackageWithItsReadmeAndXmlDocs()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var outputDirectory = Directory.CreateTempSubdirectory("yac-client-pack-");
        try
        {
            var project = Path.Combine(RepositoryPaths.Root, "Yac.Client", "Yac.Client.csproj");
            var start = new ProcessStartInfo("dotnet", ["pack", project, "--no-build", "-c", RepositoryPaths.Configuration, "-o", outputDirectory.FullName, "-nodeReuse:false"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var pack = Process.Start(start)!;
            var stdout = pack.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = pack.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await pack.WaitForExitAsync(timeout.Token);
            }
            finally
            {
                if (!pack.HasExited)
                {
                    pack.Kill(entireProcessTree: true);
                }
            }

            Assert.True(pack.ExitCode == 0, $"dotnet pack exited {pack.ExitCode}: {await stdout}{await stderr}");
            var package = Assert.Single(outputDirectory.GetFiles("Yac.Client.*.nupkg"), file => !file.Name.EndsWith(".snupkg", StringComparison.Ordinal));
            using var zip = ZipFile.OpenRead(package.FullName);
            var entries = zip.Entries.Select(entry => entry.FullName).ToList();
            Assert.Contains("README.md", entries);
            Assert.Contains("lib/net10.0/Yac.Client.dll", entries);
            Assert.Contains("lib/net10.0/Yac.Client.xml", entries);

            using (var docs = zip.GetEntry("lib/net10.0/Yac.Client.xml")!.Open())
            {
                var members = XDocument.Load(docs).Descendants("member").Select(member => (string?)member.Attribute("name")).ToList();
                Assert.Contains("T:Yac.Client.YacClient", members);
                Assert.Contains(members, name => name?.StartsWith("M:Yac.Client.YacSession.SendAsync", StringComparison.Ordinal) == true);
            }

            var nuspecEntry = zip.Entries.Single(entry => entry.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            using var nuspecStream = nuspecEntry.Open();
            var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(element => element.Name.LocalName == "metadata");
            string? Field(string name) => metadata.Elements().SingleOrDefault(element => element.Name.LocalName == name)?.Value;
            Assert.Equal("Yac.Client", Field("id"));
            Assert.Equal("README.md", Field("readme"));
            Assert.False(string.IsNullOrWhiteSpace(Field("version")));
            Assert.False(string.IsNullOrWhiteSpace(Field("description")));
            // Its only dependency is the logging abstractions.
            var dependencies = metadata.Descendants().Where(element => element.Name.LocalName == "dependency").Select(element => (string?)element.Attribute("id")).ToList();
            Assert.Equal(["Microsoft.Extensions.Logging.Abstractions"], dependencies);
        }
        finally
        {
            outputDirectory.Delete(recursive: true);
        }
    }
}
