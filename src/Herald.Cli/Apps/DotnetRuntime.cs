namespace Herald.Cli.Apps;

/// <summary>A Herald .NET app: <c>dotnet/</c> with one project, built with <c>dotnet build</c> and run with its credentials.</summary>
internal sealed class DotnetRuntime : AppRuntime
{
    private DotnetRuntime(string projectFile) => ProjectFile = projectFile;

    /// <summary>The app's project.</summary>
    public string ProjectFile { get; }

    /// <inheritdoc/>
    public override string BuildSource => ProjectFile;

    /// <inheritdoc/>
    public override string ReadyPath => "/_herald/ready";

    /// <summary>The runtime of the app in <paramref name="root"/>, which must have exactly one project in <c>dotnet/</c>.</summary>
    public static DotnetRuntime Find(string root)
    {
        var folder = Path.Combine(root, AppFolder.DotnetFolder);
        var projects = Directory.GetFiles(folder, "*.csproj");
        if (projects.Length != 1)
        {
            throw new CliException(projects.Length == 0
                ? $"No .csproj in {folder}: the app's service is built from one project there."
                : $"{projects.Length} .csproj files in {folder} ({string.Join(", ", projects.Select(Path.GetFileName))}): keep exactly one.");
        }

        return new DotnetRuntime(projects[0]);
    }

    /// <inheritdoc/>
    public override Task<string> BuildAsync(AppFolder app, CliEnvironment environment, CancellationToken cancellationToken) =>
        AppBuilder.BuildAsync(ProjectFile, cancellationToken);

    /// <inheritdoc/>
    public override AppLaunch Launch(AppFolder app, string build, AppLinkContext context, CliEnvironment environment)
    {
        var endpoint = context.Endpoint.GetLeftPart(UriPartial.Authority);
        var variables = new Dictionary<string, string?>
        {
            [EnvironmentNames.BrokerUrl] = context.BrokerUrl.GetLeftPart(UriPartial.Authority),
            [EnvironmentNames.AppToken] = context.Link.Token,
            [EnvironmentNames.SigningSecrets] = context.Link.SigningSecret,
            [EnvironmentNames.Account] = context.Link.Account,
            [EnvironmentNames.Workspace] = context.Link.Workspace,
            [EnvironmentNames.AppRoot] = app.Root,
            ["ASPNETCORE_URLS"] = null,
        };
        return new AppLaunch(DotnetHost.Path, [build, "--urls", endpoint], Path.Combine(app.Root, AppFolder.DotnetFolder), variables);
    }
}
