namespace Yac.Samples.Chat;

/// <summary>The command line: <c>--url</c>, <c>--user</c>, <c>--password</c> (or <c>YAC_PASSWORD</c>), <c>--with</c>, <c>--chat</c>, <c>--verbose</c>.</summary>
internal sealed record ChatOptions(Uri Url, string User, string Password, string? With, string? Chat, bool Verbose)
{
    public const string Usage = """
        usage: YacChat --url http://localhost:5080 --user NAME [--password PASSWORD] [--with USER | --chat N|TITLE] [--verbose]
          --password   or the YAC_PASSWORD environment variable; an unknown user is registered with it
          --with USER  opens the direct chat with USER (made if needed)
          --chat N     opens chat N of the list (or the one with that title); otherwise you are asked
        """;

    public static ChatOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var verbose = false;
        for (var index = 0; index < args.Length; index++)
        {
            if (args[index] == "--verbose")
            {
                verbose = true;
            }
            else if (args[index].StartsWith("--", StringComparison.Ordinal) && index + 1 < args.Length)
            {
                values[args[index][2..]] = args[++index];
            }
            else
            {
                return null;
            }
        }

        var password = values.GetValueOrDefault("password") ?? Environment.GetEnvironmentVariable("YAC_PASSWORD");
        if (!values.TryGetValue("user", out var user) || password is null
            || !Uri.TryCreate(values.GetValueOrDefault("url", "http://localhost:5080"), UriKind.Absolute, out var url))
        {
            return null;
        }

        return new ChatOptions(url, user, password, values.GetValueOrDefault("with"), values.GetValueOrDefault("chat"), verbose);
    }
}
