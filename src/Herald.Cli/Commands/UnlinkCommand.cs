using System.CommandLine;
using Herald.Cli.Apps;

namespace Herald.Cli.Commands;

/// <summary><c>herald unlink [vendor.name]</c>: removes an app's link (default: the app in the current folder).</summary>
internal static class UnlinkCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var app = new Argument<string?>("app")
        {
            Description = "The app's sender id, vendor.name (default: the app whose manifest.json is in the current folder).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("unlink", "Unlink an app from the current workspace; its subscriptions stop receiving events.") { app };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var sender = parse.GetValue(app) ?? AppFolder.ReadSender(environment.CurrentDirectory);
            if (!Names.IsSender(sender))
            {
                throw new CliException($"'{sender}' is not an app name: give vendor.name where each part is {Names.AppNameRule}.");
            }

            using var broker = new BrokerClient(globals.Target(parse, environment));
            await broker.UnlinkAsync(sender, cancellationToken).ConfigureAwait(false);
            environment.Out.WriteLine($"Unlinked {sender} from {broker.Account}/{broker.Workspace}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
