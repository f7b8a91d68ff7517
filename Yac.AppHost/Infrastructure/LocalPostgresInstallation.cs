using System.Security.Cryptography;

namespace Yac.AppHost.Infrastructure;

/// <summary>
/// Where the machine's PostgreSQL binaries are, where YAC keeps its cluster, and which OS user
/// runs it (PostgreSQL refuses to run as root).
/// </summary>
/// <param name="BinDirectory">Holds <c>postgres</c> and <c>initdb</c>.</param>
/// <param name="DataRoot">YAC's folder: <c>data/</c> (the cluster), <c>run/</c> (its socket), <c>password</c>.</param>
/// <param name="RunAsUser">The OS user to switch to when the AppHost runs as root; null otherwise.</param>
internal sealed record LocalPostgresInstallation(string BinDirectory, string DataRoot, string? RunAsUser)
{
    public string DataDirectory => Path.Combine(DataRoot, "data");

    public string SocketDirectory => Path.Combine(DataRoot, "run");

    public string PasswordFile => Path.Combine(DataRoot, "password");

    public static LocalPostgresInstallation? Find(IConfiguration configuration)
    {
        var binDirectory = configuration["Yac:Postgres:BinDirectory"] ?? FindBinDirectory();
        if (binDirectory is null
            || !File.Exists(Path.Combine(binDirectory, "postgres"))
            || !File.Exists(Path.Combine(binDirectory, "initdb")))
        {
            return null;
        }

        var runsAsRoot = Environment.UserName == "root";
        var dataRoot = configuration["Yac:Postgres:DataDirectory"] ?? DefaultDataRoot(runsAsRoot);
        var runAsUser = runsAsRoot ? configuration["Yac:Postgres:OsUser"] ?? "postgres" : null;
        return new LocalPostgresInstallation(binDirectory, Path.GetFullPath(dataRoot), runAsUser);
    }

    /// <summary>
    /// The cluster's superuser password: made once, kept beside the cluster (readable by the
    /// AppHost's user only), because the cluster outlives every run.
    /// </summary>
    public string GetOrCreatePassword()
    {
        Directory.CreateDirectory(DataRoot);
        if (File.Exists(PasswordFile))
        {
            return File.ReadAllText(PasswordFile).Trim();
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        File.WriteAllText(PasswordFile, password);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return password;
    }

    private static string DefaultDataRoot(bool runsAsRoot)
    {
        if (runsAsRoot)
        {
            // Not under /root: the postgres user could not reach it there.
            return "/var/lib/yac/postgres";
        }

        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(dataHome))
        {
            dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        }

        return Path.Combine(dataHome, "yac", "postgres");
    }

    private static string? FindBinDirectory()
    {
        // Debian and Ubuntu keep one folder per major version; take the newest.
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(directory => (Directory: directory, Version: int.TryParse(Path.GetFileName(directory), out var v) ? v : -1))
                .Where(candidate => candidate.Version >= 0 && File.Exists(Path.Combine(candidate.Directory, "bin", "postgres")))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => Path.Combine(candidate.Directory, "bin"))
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        var onPath = ExecutableSearch.Find("postgres");
        return onPath is null ? null : Path.GetDirectoryName(ResolveLinks(onPath));
    }

    private static string ResolveLinks(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}
