using System.CommandLine;

namespace Herald.Cli.Commands;

/// <summary><c>herald whoami</c>: prints the account, workspace and broker commands use.</summary>
internal static class WhoamiCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var command = new Command("whoami", "Show the account, workspace and broker commands use.");
        CommandRunner.SetAction(command, environment, (parse, _) =>
        {
            var brokerOption = parse.GetValue(globals.Broker);
            var target = globals.Target(parse, environment);
            var context = CliContext.Load(environment.HomeDirectory);
            var source = brokerOption is not null ? "--broker"
                : environment.Variable(EnvironmentNames.BrokerUrl) is not null ? EnvironmentNames.BrokerUrl
                : context.Broker is not null ? CliContext.PathIn(environment.HomeDirectory)
                : "default";
            environment.Out.WriteLine($"account:   {target.Account}");
            environment.Out.WriteLine($"workspace: {target.Workspace}{(Names.IsProduction(target.Workspace) ? " (production)" : "")}");
            environment.Out.WriteLine($"broker:    {target.Url.GetLeftPart(UriPartial.Authority)} (from {source})");
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
