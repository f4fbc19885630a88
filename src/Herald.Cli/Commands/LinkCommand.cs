using System.CommandLine;
using Herald.Cli.Apps;

namespace Herald.Cli.Commands;

/// <summary>
/// <c>herald link [--path DIR]</c>: validates, builds, links and runs the app, streams its output, and rebuilds and
/// relinks it on every change until Ctrl+C, which stops it and unlinks it.
/// </summary>
internal static class LinkCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var path = new Option<string>("--path") { Description = "The app's folder (default: the current folder).", HelpName = "DIR" };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not rebuild on changes; just run the app until Ctrl+C." };
        var command = new Command("link", "Build the app, link it to the current workspace and run it; relink on every change until Ctrl+C.") { path, noWatch };
        CommandRunner.SetAction(command, environment, (parse, cancellationToken) =>
            RunAsync(environment, globals.Target(parse, environment), environment.FullPath(parse.GetValue(path) ?? "."), !parse.GetValue(noWatch), cancellationToken));
        return command;
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
