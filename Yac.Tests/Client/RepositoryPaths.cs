namespace Yac.Tests.Client;

/// <summary>Where the repository and this test build are, for tests that run the solution's other outputs.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder of Yac.sln, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration this test assembly was built in (Debug, Release): its output folder's parent.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Yac.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Yac.sln above {AppContext.BaseDirectory}");
    }
}
