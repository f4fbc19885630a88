namespace Herald.Cli;

/// <summary>Which broker, account and workspace a command talks to, and with which admin token.</summary>
/// <param name="Url">The broker's base URL.</param>
/// <param name="AdminToken">The admin token, or <c>null</c> when none was found.</param>
/// <param name="AdminTokenSource">Where the token came from, or where it was looked for (for error messages).</param>
/// <param name="Account">The account.</param>
/// <param name="Workspace">The workspace.</param>
internal sealed record BrokerTarget(Uri Url, string? AdminToken, string AdminTokenSource, string Account, string Workspace)
{
    /// <summary>The file name of the admin token in a broker's data folder.</summary>
    public const string AdminTokenFile = "admin.token";

    /// <summary>
    /// Resolves the target: the broker URL from <paramref name="brokerOption"/>, else <c>HERALD_BROKER_URL</c>, else
    /// the context file, else <see cref="CliContext.DefaultBrokerUrl"/>; the admin token from <c>HERALD_ADMIN_TOKEN</c>,
    /// else <c>{data folder}/admin.token</c>.
    /// </summary>
    public static BrokerTarget Resolve(CliEnvironment environment, string? brokerOption)
    {
        var context = CliContext.Load(environment.HomeDirectory);
        var url = brokerOption ?? environment.Variable(EnvironmentNames.BrokerUrl) ?? context.Broker ?? CliContext.DefaultBrokerUrl;
        var (token, source) = ReadAdminToken(environment, context);
        return new BrokerTarget(ParseUrl(url), token, source, context.Account, context.Workspace);
    }

    /// <summary>The default data folder of <c>herald up</c>: <c>$HERALD_HOME/data</c>.</summary>
    public static string DefaultDataDirectory(CliEnvironment environment) => Path.Combine(environment.HomeDirectory, "data");

    /// <summary>Parses a broker URL the user gave; throws a <see cref="CliException"/> saying what is wrong.</summary>
    public static Uri ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{url}' is not a broker URL: give an absolute http(s) URL such as {CliContext.DefaultBrokerUrl}.");
        }

        return uri;
    }

    private static (string? Token, string Source) ReadAdminToken(CliEnvironment environment, CliContext context)
    {
        if (environment.Variable(EnvironmentNames.AdminToken) is { } fromVariable)
        {
            return (fromVariable.Trim(), EnvironmentNames.AdminToken);
        }

        var file = Path.Combine(context.DataDirectory ?? DefaultDataDirectory(environment), AdminTokenFile);
        try
        {
            var token = File.Exists(file) ? File.ReadAllText(file).Trim() : null;
            return (string.IsNullOrEmpty(token) ? null : token, file);
        }
        catch (IOException)
        {
            return (null, file);
        }
        catch (UnauthorizedAccessException)
        {
            return (null, file);
        }
    }
}
