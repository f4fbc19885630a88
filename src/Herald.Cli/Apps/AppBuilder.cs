namespace Herald.Cli.Apps;

/// <summary>Builds an app's project with <c>dotnet build</c>.</summary>
internal static class AppBuilder
{
    /// <summary>Builds <paramref name="projectFile"/> and returns the path of the built assembly.</summary>
    /// <exception cref="AppBuildException">The build failed; the exception lists the build's errors.</exception>
    public static async Task<string> BuildAsync(string projectFile, CancellationToken cancellationToken)
    {
        string[] arguments = ["build", projectFile, "-nologo", "-nodeReuse:false", "-t:Build", "-getProperty:TargetPath"];
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        var (exitCode, output, error) = await ChildProcess.RunAsync(
            DotnetHost.Path, arguments, Path.GetDirectoryName(projectFile)!, environment, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw AppBuildException.FromOutput($"dotnet build of {projectFile}", error + output, ": error ");
        }

        var targetPath = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (targetPath is null || !File.Exists(targetPath))
        {
            throw new CliException($"dotnet build of {projectFile} succeeded but did not report the built assembly (got '{targetPath}').");
        }

        return targetPath;
    }
}
