using Herald.Broker.Admin;

namespace Herald.Cli.Apps;

/// <summary>The process that runs a built app: program, arguments, working folder and environment.</summary>
/// <param name="Environment">Variables to set (or, with a <c>null</c> value, remove) in its environment.</param>
internal sealed record AppLaunch(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string?> Environment);

/// <summary>Where a linked app is to listen and what the broker gave it.</summary>
/// <param name="Endpoint">The loopback base URL the app listens on.</param>
/// <param name="BrokerUrl">The broker's base URL.</param>
/// <param name="Link">The broker's answer to the link: account, workspace and the app's credentials.</param>
internal sealed record AppLinkContext(Uri Endpoint, Uri BrokerUrl, LinkResponse Link);

/// <summary>
/// How <c>herald link</c> builds and runs one kind of app: a Herald .NET app (<c>dotnet/</c>, <see cref="DotnetRuntime"/>)
/// or a VTEX IO node app (<c>node/</c>, <see cref="NodeRuntime"/>).
/// </summary>
internal abstract class AppRuntime
{
    /// <summary>What is built, to name it in messages (a project file, a folder).</summary>
    public abstract string BuildSource { get; }

    /// <summary>The path the running app answers with a 2xx once it serves.</summary>
    public abstract string ReadyPath { get; }

    /// <summary>Builds the app and returns what <see cref="Launch"/> runs.</summary>
    /// <exception cref="CliException">The build failed; the message says why and what to do.</exception>
    public abstract Task<string> BuildAsync(AppFolder app, CliEnvironment environment, CancellationToken cancellationToken);

    /// <summary>Readies a build to run (the previous process has stopped) and says how to start it.</summary>
    public abstract AppLaunch Launch(AppFolder app, string build, AppLinkContext context, CliEnvironment environment);

    /// <summary>A line the app printed as the terminal shows it, or <c>null</c> to leave it out.</summary>
    public virtual string? FormatLine(string line) => line;
}

/// <summary>An app's build failed.</summary>
internal sealed class AppBuildException : CliException
{
    /// <param name="build">What failed, e.g. <c>dotnet build of dotnet/App.csproj</c>.</param>
    /// <param name="errors">The build's error lines.</param>
    public AppBuildException(string build, IReadOnlyList<string> errors)
        : base($"{build} failed:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e)))
    {
        Errors = errors;
    }

    /// <summary>The build's error lines.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>
    /// The failure of <paramref name="build"/> from its <paramref name="output"/>: the lines that contain
    /// <paramref name="errorMarker"/> (each once), or its last 30 lines when none does.
    /// </summary>
    public static AppBuildException FromOutput(string build, string output, string errorMarker)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.Contains(errorMarker, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        return new AppBuildException(build, errors.Count > 0 ? errors : lines.TakeLast(30).ToList());
    }
}
