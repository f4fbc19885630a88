using Herald.Cli;

return await HeraldCli.InvokeAsync(args, CliEnvironment.FromProcess(), handleTermination: true, CancellationToken.None).ConfigureAwait(false);
