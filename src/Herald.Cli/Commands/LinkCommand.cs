using System.CommandLine;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Cli.Apps;

namespace Herald.Cli.Commands;

/// <summary>
/// <c>herald link [--path DIR]</c>: validates, builds, links and runs the app, streams its output, and rebuilds and
/// relinks it on every change until Ctrl+C, which stops it and unlinks it. <c>herald link --endpoint URL</c> links an
/// app that already runs (in any language) as its manifests declare it, without building or starting anything.
/// </summary>
internal static class LinkCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var path = new Option<string>("--path") { Description = "The app's folder (default: the current folder).", HelpName = "DIR" };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not rebuild on changes; just run the app until Ctrl+C." };
        var endpoint = new Option<string>("--endpoint")
        {
            Description = "Link an app that already runs at this base URL (on loopback, any language): Herald neither builds nor starts it, and prints the credentials it needs.",
            HelpName = "URL",
        };
        var command = new Command("link", "Build the app, link it to the current workspace and run it; relink on every change until Ctrl+C.") { path, noWatch, endpoint };
        CommandRunner.SetAction(command, environment, (parse, cancellationToken) =>
        {
            var root = environment.FullPath(parse.GetValue(path) ?? ".");
            return parse.GetValue(endpoint) is { } url
                ? RunEndpointAsync(environment, globals.Target(parse, environment), root, url, cancellationToken)
                : RunAsync(environment, globals.Target(parse, environment), root, !parse.GetValue(noWatch), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunEndpointAsync(CliEnvironment environment, BrokerTarget target, string root, string endpoint, CancellationToken cancellationToken)
    {
        var (manifestText, serviceText, manifest, _) = AppFolder.LoadDeclarations(root);
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/" || url.Query.Length > 0)
        {
            throw new CliException($"--endpoint '{endpoint}' is not an app's base URL: give its scheme, host and port, e.g. --endpoint http://127.0.0.1:5123.");
        }

        using var broker = new BrokerClient(target);
        await broker.EnsureReachableAsync(cancellationToken).ConfigureAwait(false);
        await EnsureListeningAsync(url, cancellationToken).ConfigureAwait(false);

        var sender = manifest.SenderId;
        using var manifestJson = JsonDocument.Parse(manifestText);
        using var serviceJson = JsonDocument.Parse(serviceText);
        var link = await broker.LinkAsync(sender, new LinkRequest(manifestJson.RootElement.Clone(), serviceJson.RootElement.Clone(), url.GetLeftPart(UriPartial.Authority)), cancellationToken).ConfigureAwait(false);
        try
        {
            var output = environment.Out;
            LinkSession.PrintSummary(output, manifest.AppId, link, url);
            output.WriteLine("Herald does not run this app: give it these credentials (shown once; a relink draws new ones):");
            output.WriteLine($"  {EnvironmentNames.BrokerUrl}={broker.Url.GetLeftPart(UriPartial.Authority)}");
            output.WriteLine($"  {EnvironmentNames.Account}={link.Account}");
            output.WriteLine($"  {EnvironmentNames.Workspace}={link.Workspace}");
            output.WriteLine($"  {EnvironmentNames.AppToken}={link.Token}   (Authorization: Bearer, to publish)");
            output.WriteLine($"  {EnvironmentNames.SigningSecrets}={link.SigningSecret}   (verifies each delivery's webhook-signature)");
            output.WriteLine("Press Ctrl+C to unlink.");
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: the normal way to end.
        }
        finally
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await broker.UnlinkAsync(sender, timeout.Token).ConfigureAwait(false);
                environment.Out.WriteLine($"Unlinked {sender} from {broker.Account}/{broker.Workspace}.");
            }
            catch (Exception e) when (e is CliException or OperationCanceledException)
            {
                environment.Error.WriteLine($"Could not unlink {sender}: {e.Message}");
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>Something answers HTTP at <paramref name="url"/> (any status): the app is running.</summary>
    private static async Task EnsureListeningAsync(Uri url, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new CliException($"Nothing answers HTTP at {url.GetLeftPart(UriPartial.Authority)} ({e.Message}). Start the app first: 'herald link --endpoint' links an app that already runs.", ExitCodes.Unavailable, e);
        }
    }

    private static async Task<int> RunAsync(CliEnvironment environment, BrokerTarget target, string root, bool watch, CancellationToken cancellationToken)
    {
        // Validation first: an invalid app is reported without a broker, a build or a link.
        AppFolder.Load(root);

        using var broker = new BrokerClient(target);
        await broker.EnsureReachableAsync(cancellationToken).ConfigureAwait(false);
        await using var session = new LinkSession(environment, broker, root);
        try
        {
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
            if (watch)
            {
                await session.WatchAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                environment.Out.WriteLine("Press Ctrl+C to stop and unlink.");
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && session.Link is not null)
        {
            // Ctrl+C once linked: the normal way to end a link session.
        }
        finally
        {
            await session.StopAsync().ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
