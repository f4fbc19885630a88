using System.CommandLine;
using Herald.Cli.Commands;

namespace Herald.Cli;

/// <summary>The <c>herald</c> command line: builds the command tree and runs it.</summary>
internal static class HeraldCli
{
    /// <summary>How long a command may take to stop after Ctrl+C/SIGTERM (stopping apps, unlinking).</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>Builds the root command with every subcommand, writing through <paramref name="environment"/>.</summary>
    public static RootCommand CreateRootCommand(CliEnvironment environment)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("Herald: an event platform for .NET apps. Run the broker, link apps, send and watch events.");
        root.Options.Add(globals.Broker);
        root.Subcommands.Add(UpCommand.Create(environment));
        root.Subcommands.Add(UseCommand.Create(environment));
        root.Subcommands.Add(WhoamiCommand.Create(environment, globals));
        root.Subcommands.Add(LinkCommand.Create(environment, globals));
        root.Subcommands.Add(UnlinkCommand.Create(environment, globals));
        root.Subcommands.Add(SendCommand.Create(environment, globals));
        root.Subcommands.Add(TailCommand.Create(environment, globals));
        root.Subcommands.Add(AppsCommand.Create(environment, globals));
        root.Subcommands.Add(DeadLettersCommand.Create(environment, globals));
        root.Subcommands.Add(ReplayCommand.Create(environment, globals));
        root.Subcommands.Add(DemoCommand.Create(environment));
        return root;
    }

    /// <summary>Parses <paramref name="args"/> (no response files: <c>@FILE</c> is for <c>send --data</c>).</summary>
    public static ParseResult Parse(CliEnvironment environment, IReadOnlyList<string> args) =>
        CreateRootCommand(environment).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="environment">Output, variables and folders.</param>
    /// <param name="handleTermination">Whether Ctrl+C/SIGTERM cancel the command (true for the real process).</param>
    /// <param name="cancellationToken">Cancels the command, as Ctrl+C does.</param>
    public static Task<int> InvokeAsync(string[] args, CliEnvironment environment, bool handleTermination, CancellationToken cancellationToken)
    {
        var parse = Parse(environment, args);
        var configuration = new InvocationConfiguration
        {
            Output = environment.Out,
            Error = environment.Error,
            ProcessTerminationTimeout = handleTermination ? StopGrace : null,
        };
        return parse.InvokeAsync(configuration, cancellationToken);
    }
}

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    /// <summary><c>--broker URL</c>.</summary>
    public Option<string> Broker { get; } = new("--broker")
    {
        Description = "The broker's URL (default: HERALD_BROKER_URL, else the one 'herald up' recorded, else http://127.0.0.1:8080).",
        HelpName = "URL",
        Recursive = true,
    };

    /// <summary>The broker, account, workspace and admin token a command uses.</summary>
    public BrokerTarget Target(ParseResult parse, CliEnvironment environment) =>
        BrokerTarget.Resolve(environment, parse.GetValue(Broker));
}

/// <summary>Runs command actions: maps <see cref="CliException"/> to its message and exit code, Ctrl+C to 130.</summary>
internal static class CommandRunner
{
    /// <summary>Sets <paramref name="action"/> as the action of <paramref name="command"/>.</summary>
    public static void SetAction(Command command, CliEnvironment environment, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction((parse, cancellationToken) => RunAsync(environment, parse, action, cancellationToken));

    private static async Task<int> RunAsync(CliEnvironment environment, ParseResult parse, Func<ParseResult, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action(parse, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            environment.Error.WriteLine(e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Cancelled;
        }
    }
}
