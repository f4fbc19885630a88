using System.CommandLine;
using System.Globalization;

namespace Herald.Cli.Commands;

/// <summary><c>herald tail [--sender S] [--keys K ...]</c>: prints every event of the workspace as it is published.</summary>
internal static class TailCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var sender = new Option<string>("--sender", "-s") { Description = "Only events from this app (vendor.name).", HelpName = "vendor.name" };
        var keys = new Option<string[]>("--keys", "-k")
        {
            Description = "Only events with these keys.",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("tail", "Print each event published in the current workspace, one line each, until Ctrl+C.") { sender, keys };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var from = parse.GetValue(sender);
            var only = parse.GetValue(keys) ?? [];
            if (from is not null && !Names.IsDeclaredSender(from))
            {
                throw new CliException($"'{from}' is not a valid sender: use {Names.DeclaredSenderRule}.");
            }

            if (only.FirstOrDefault(k => !Names.IsKey(k)) is { } badKey)
            {
                throw new CliException($"'{badKey}' is not a valid event key: use {Names.KeyRule}.");
            }

            using var broker = new BrokerClient(globals.Target(parse, environment));
            try
            {
                await foreach (var e in broker.TailAsync(from, only, cancellationToken, () =>
                    environment.Out.WriteLine($"Tailing events in {broker.Account}/{broker.Workspace}. Press Ctrl+C to stop.")).ConfigureAwait(false))
                {
                    environment.Out.WriteLine(Format(e));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One line for one event: time, sender, key, subject, body.</summary>
    internal static string Format(TailEvent e)
    {
        var subject = string.IsNullOrEmpty(e.Subject) ? "" : $" [{e.Subject}]";
        return $"{e.Time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)}  {e.Sender}  {e.Key}{subject}  {e.Body.GetRawText()}  ({e.Id})";
    }
}
