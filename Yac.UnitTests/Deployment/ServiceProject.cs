using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Yac.UnitTests.Deployment;

/// <summary>
/// What a service's own project says it needs, read from its sources and csproj, so that the
/// manifests are checked against the code rather than against a second copy of the same list.
/// </summary>
internal sealed partial record ServiceProject(
    string Name,
    string ContainerRepository,
    int ContainerPort,
    IReadOnlySet<string> ConnectionNames,
    IReadOnlySet<string> DiscoveredServices,
    bool HasDatabase)
{
    /// <summary>The Deployment name and the project folder of each YAC service.</summary>
    public static readonly IReadOnlyDictionary<string, string> Folders = new Dictionary<string, string>
    {
        ["gateway"] = "Yac.Gateway",
        ["chat"] = "Yac.ChatService",
        ["identity"] = "Yac.Identity",
    };

    public static ServiceProject Read(string name)
    {
        var folder = Path.Combine(RenderedOverlay.RepositoryRoot, Folders[name]);
        var project = XDocument.Load(Path.Combine(folder, Folders[name] + ".csproj"));
        var repository = project.Descendants("ContainerRepository").Single().Value;
        var port = int.Parse(project.Descendants("ContainerPort").Single().Attribute("Include")!.Value, System.Globalization.CultureInfo.InvariantCulture);

        var sources = Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}Migrations{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();

        var databases = sources.SelectMany(source => DbContextConnection().Matches(source)).Select(match => match.Groups[1].Value).ToHashSet();
        var connections = sources.SelectMany(source => RedisConnection().Matches(source)).Select(match => match.Groups[1].Value)
            .Concat(databases).ToHashSet(StringComparer.Ordinal);
        var discovered = sources.SelectMany(source => ServiceDiscoveryUri().Matches(source)).Select(match => match.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        return new ServiceProject(name, repository, port, connections, discovered, databases.Count > 0);
    }

    [GeneratedRegex("""AddNpgsqlDbContext<\w+>\(\s*"([a-z]+)"\s*[,)]""")]
    private static partial Regex DbContextConnection();

    [GeneratedRegex("""AddRedisClient\(\s*"([a-z]+)"\s*[,)]""")]
    private static partial Regex RedisConnection();

    /// <summary>The <c>http://name</c> addresses that service discovery resolves.</summary>
    [GeneratedRegex(""""http://([a-z]+)[/"]"""")]
    private static partial Regex ServiceDiscoveryUri();
}
