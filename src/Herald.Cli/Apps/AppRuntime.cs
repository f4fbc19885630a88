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
