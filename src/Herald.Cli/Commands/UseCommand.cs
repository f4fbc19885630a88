using System.CommandLine;

namespace Herald.Cli.Commands;

/// <summary><c>herald use WORKSPACE [--account ACCOUNT]</c>: chooses the workspace (and account) commands work in.</summary>
internal static class UseCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var workspace = new Argument<string>("workspace") { Description = "The workspace, e.g. dev or master." };
        var account = new Option<string>("--account", "-a") { Description = "The account (default: keep the current one)." };
        var command = new Command("use", "Work in another workspace (and account). Saved in $HERALD_HOME/config.json.") { workspace, account };
        CommandRunner.SetAction(command, environment, (parse, _) => Task.FromResult(Run(environment, parse.GetValue(workspace)!, parse.GetValue(account))));
        return command;
    }

    private static int Run(CliEnvironment environment, string workspace, string? account)
    {
        var errors = new List<string>();
        if (!Names.IsWorkspace(workspace))
        {
            errors.Add($"'{workspace}' is not a valid workspace name: use {Names.TenantRule}.");
        }

        if (account is not null && !Names.IsAccount(account))
        {
            errors.Add($"'{account}' is not a valid account name: use {Names.TenantRule}.");
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                environment.Error.WriteLine(error);
            }

            environment.Error.WriteLine("Nothing was changed.");
            return ExitCodes.UserError;
        }

        var context = CliContext.Load(environment.HomeDirectory);
        var updated = context with { Workspace = workspace, Account = account ?? context.Account };
        updated.Save(environment.HomeDirectory);
        environment.Out.WriteLine($"Now using workspace {updated.Workspace} in account {updated.Account}{(Names.IsProduction(updated.Workspace) ? " (production)" : "")}.");
        return ExitCodes.Ok;
    }
}
