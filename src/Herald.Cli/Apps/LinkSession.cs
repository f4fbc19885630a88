using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Broker.Admin;
using Herald.Cli.Hosting;

namespace Herald.Cli.Apps;

/// <summary>How a <see cref="LinkSession"/> runs its app.</summary>
internal sealed class LinkSessionOptions
{
    /// <summary>Extra environment variables for the app process. <value>none</value></summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>
    /// Receives each line the app prints (app name, line, whether it came from stderr). <value>null: the line is
    /// printed as <c>[name] line</c></value>
    /// </summary>
    public Action<string, string, bool>? OnAppLine { get; init; }

    /// <summary>
    /// Log levels set for framework categories of a .NET app (unless the user's environment sets them).
    /// <value>Microsoft.AspNetCore: Warning</value>
    /// </summary>
    public IReadOnlyDictionary<string, string> FrameworkLogLevels { get; init; } = new Dictionary<string, string> { ["Microsoft.AspNetCore"] = "Warning" };

    /// <summary>How long the app may take to answer its ready path (<see cref="AppRuntime.ReadyPath"/>). <value>60 seconds</value></summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long file changes must settle before a rebuild. <value>500 ms</value></summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Links one app: validates it, builds it, registers it with the broker, runs it with its credentials, and (when
/// watched) rebuilds and relinks it on every change. <see cref="StopAsync"/> stops the app process and unlinks it.
/// </summary>
internal sealed class LinkSession : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly CliEnvironment _environment;
    private readonly BrokerClient _broker;
    private readonly string _root;
    private readonly LinkSessionOptions _options;
    private ChildProcess? _process;
    private bool _linked;
    private CancellationToken _lifetime;
    private bool _watching;
    private string _displayName;

    public LinkSession(CliEnvironment environment, BrokerClient broker, string appRoot, LinkSessionOptions? options = null)
    {
        _environment = environment;
        _broker = broker;
        _root = Path.GetFullPath(appRoot);
        _options = options ?? new LinkSessionOptions();
        _displayName = Path.GetFileName(_root);
    }

    /// <summary>The app, once loaded.</summary>
    public AppFolder? App { get; private set; }

    /// <summary>The broker's answer to the latest link.</summary>
    public LinkResponse? Link { get; private set; }

    /// <summary>Where the app listens.</summary>
    public Uri? Endpoint { get; private set; }

    /// <summary>
    /// Validates, builds, links and starts the app, and waits until it is ready. On failure nothing stays linked
    /// or running, and the exception says why.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _lifetime = cancellationToken;
        var app = AppFolder.Load(_root);
        App = app;
        _displayName = app.Manifest.Name;
        _environment.Out.WriteLine($"Building {app.Manifest.AppId} ({Path.GetRelativePath(_environment.CurrentDirectory, app.Runtime.BuildSource)})...");
        var build = await app.Runtime.BuildAsync(app, _environment, cancellationToken).ConfigureAwait(false);
        try
        {
            await LinkAndRunAsync(app, build, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            throw;
        }

        PrintSummary();
    }

    /// <summary>
    /// Watches the app's source files until cancelled; on a change rebuilds, stops, relinks and restarts the app.
    /// Also says when the app exits on its own, and keeps waiting for a fix.
    /// </summary>
    public async Task WatchAsync(CancellationToken cancellationToken)
    {
        _lifetime = cancellationToken;
        _watching = true;
        var changes = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        using var watcher = new FileSystemWatcher(_root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        FileSystemEventHandler onChange = (_, e) =>
        {
            if (IsSource(e.FullPath))
            {
                changes.Writer.TryWrite(e.FullPath);
            }
        };
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Deleted += onChange;
        watcher.Renamed += (_, e) =>
        {
            if (IsSource(e.FullPath) || IsSource(e.OldFullPath))
            {
                changes.Writer.TryWrite(e.FullPath);
            }
        };
        watcher.EnableRaisingEvents = true;
        _environment.Out.WriteLine($"Watching {_root} for changes. Press Ctrl+C to stop and unlink.");

        while (true)
        {
            var changed = await changes.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            // Debounce: wait until nothing changed for a while (editors write files in bursts).
            while (true)
            {
                await Task.Delay(_options.Debounce, cancellationToken).ConfigureAwait(false);
                if (!changes.Reader.TryRead(out var more))
                {
                    break;
                }

                changed = more;
            }

            _environment.Out.WriteLine($"Changed: {Path.GetRelativePath(_root, changed)}. Rebuilding {_displayName}...");
            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the app process and unlinks the app (errors are reported, not thrown).</summary>
    public async Task StopAsync()
    {
        await StopProcessAsync().ConfigureAwait(false);
        if (_linked && App is not null)
        {
            _linked = false;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _broker.UnlinkAsync(App.Sender, timeout.Token).ConfigureAwait(false);
                _environment.Out.WriteLine($"Unlinked {App.Sender} from {_broker.Account}/{_broker.Workspace}.");
            }
            catch (Exception e) when (e is CliException or OperationCanceledException)
            {
                _environment.Error.WriteLine($"Could not unlink {App.Sender}: {e.Message}");
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Whether a changed path is one of the app's sources (not build output or hidden folders).</summary>
    internal bool IsSource(string path)
    {
        var relative = Path.GetRelativePath(_root, path);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            return false;
        }

        var segments = relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (segments.Any(s => s is "bin" or "obj" or "node_modules" || s.StartsWith('.')))
        {
            return false;
        }

        var name = segments[^1];
        return !(name.EndsWith('~') || name.EndsWith(".swp", StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.Ordinal));
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        AppFolder app;
        string build;
        try
        {
            app = AppFolder.Load(_root);
            build = await app.Runtime.BuildAsync(app, _environment, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            _environment.Error.WriteLine(e.Message);
            _environment.Error.WriteLine(_process is { HasExited: false }
                ? $"{_displayName} keeps running the previous build. Fix the problem and save to try again."
                : "Fix the problem and save to try again.");
            return;
        }

        await StopProcessAsync().ConfigureAwait(false);
        if (_linked && App is not null && App.Sender != app.Sender)
        {
            await StopAsync().ConfigureAwait(false);
        }

        App = app;
        _displayName = app.Manifest.Name;
        try
        {
            await LinkAndRunAsync(app, build, cancellationToken).ConfigureAwait(false);
            _environment.Out.WriteLine($"Relinked {app.Manifest.AppId} in {_broker.Account}/{_broker.Workspace} (app on {Endpoint!.GetLeftPart(UriPartial.Authority)}).");
        }
        catch (CliException e)
        {
            _environment.Error.WriteLine(e.Message);
            _environment.Error.WriteLine("Fix the problem and save to try again.");
        }
    }

    private async Task LinkAndRunAsync(AppFolder app, string build, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        Endpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        using var manifest = JsonDocument.Parse(app.ManifestText);
        using var service = JsonDocument.Parse(app.ServiceText);
        var request = new LinkRequest(manifest.RootElement.Clone(), service.RootElement.Clone(), Endpoint.GetLeftPart(UriPartial.Authority));
        Link = await _broker.LinkAsync(app.Sender, request, cancellationToken).ConfigureAwait(false);
        _linked = true;
        StartProcess(app, build, Link);
        await WaitUntilReadyAsync(app.Runtime.ReadyPath, cancellationToken).ConfigureAwait(false);
    }

    private void StartProcess(AppFolder app, string build, LinkResponse link)
    {
        var launch = app.Runtime.Launch(app, build, new AppLinkContext(Endpoint!, _broker.Url, link), _environment);
        var environment = new Dictionary<string, string?>(launch.Environment) { [EnvironmentNames.AdminToken] = null };
        // Keep a .NET app's framework chatter (a line per request) out of the terminal unless the user asked for it.
        foreach (var (category, level) in _options.FrameworkLogLevels)
        {
            var variable = "Logging__LogLevel__" + category;
            if (_environment.Variable(variable) is null)
            {
                environment[variable] = level;
            }
        }

        foreach (var (variable, value) in _options.Environment)
        {
            environment[variable] = value;
        }

        var name = app.Manifest.Name;
        var onLine = _options.OnAppLine ?? ((appName, line, isError) => (isError ? _environment.Error : _environment.Out).WriteLine($"[{appName}] {line}"));
        var started = ChildProcess.Start(launch.FileName, launch.Arguments, launch.WorkingDirectory, environment, (line, isError) =>
        {
            if (app.Runtime.FormatLine(line) is { } shown)
            {
                onLine(name, shown, isError);
            }
        });
        _process = started;
        _ = ReportExitAsync(started, name);
    }

    private async Task ReportExitAsync(ChildProcess process, string name)
    {
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        // Ctrl+C in a terminal signals the whole process group, the app too: give our own handler a moment
        // so an exit we caused is not reported as a crash.
        await Task.Delay(300, CancellationToken.None).ConfigureAwait(false);
        if (ReferenceEquals(_process, process) && !_lifetime.IsCancellationRequested)
        {
            _environment.Error.WriteLine($"{name} exited on its own (exit code {process.ExitCode})." + (_watching ? " Fix it and save a file to restart it." : ""));
        }
    }

    private async Task WaitUntilReadyAsync(string readyPath, CancellationToken cancellationToken)
    {
        var ready = new Uri(Endpoint!, readyPath);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var process = _process!;
            if (process.HasExited)
            {
                throw new CliException($"{_displayName} exited (code {process.ExitCode}) before it was ready; see its output above.");
            }

            try
            {
                using var response = await Probe.GetAsync(ready, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The probe timed out.
            }

            if (clock.Elapsed > _options.ReadyTimeout)
            {
                throw new CliException($"{_displayName} did not answer {ready} within {_options.ReadyTimeout.TotalSeconds:0} s.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopProcessAsync()
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void PrintSummary() => PrintSummary(_environment.Out, App!.Manifest.AppId, Link!, Endpoint!);

    /// <summary>Prints what a link made: the app, where it runs, its event handlers and its routes.</summary>
    public static void PrintSummary(TextWriter output, string appId, LinkResponse link, Uri endpoint)
    {
        output.WriteLine($"Linked {appId} in {link.Account}/{link.Workspace} (app on {endpoint.GetLeftPart(UriPartial.Authority)}).");
        foreach (var subscription in link.Subscriptions)
        {
            var keys = subscription.Keys.Count == 0 ? "every key" : string.Join(", ", subscription.Keys);
            output.WriteLine($"  event handler {subscription.HandlerId}: {keys} from {subscription.Sender ?? "any sender"}");
        }

        foreach (var route in link.Routes)
        {
            output.WriteLine($"  route {route.Id}: {route.Url}");
        }
    }
}
