namespace Herald.Cli.Tests;

/// <summary><c>herald link</c> of a VTEX IO node app that cannot be built: the error says what to do, and nothing is linked.</summary>
public sealed class NodeLinkFailureTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _broker;

    public NodeLinkFailureTests(BrokerFixture broker) => _broker = broker;

    [Fact]
    public async Task AYarnLockWithoutYarnOnThePath_SaysWhatToDo_AndInstallsNothing()
    {
        var cli = _broker.Cli;
        var app = AppFixtures.WriteNode(cli.Root, "yarn-app", AppFixtures.GoodService);
        File.WriteAllText(Path.Combine(app, "node", "yarn.lock"), "# yarn lockfile v1\n");
        // A PATH with node and nothing else: no yarn, no npm.
        var bin = Directory.CreateDirectory(Path.Combine(cli.Root, "node-only")).FullName;
        var node = new CliEnvironment(TextWriter.Null, TextWriter.Null).FindProgram("node");
        Assert.NotNull(node);
        File.CreateSymbolicLink(Path.Combine(bin, "node"), node);
        cli.Variables["PATH"] = bin;
        CliResult result;
        try
        {
            result = await cli.RunAsync("link", "--path", app);
        }
        finally
        {
            cli.Variables.Remove("PATH");
        }

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has a yarn.lock and no package-lock.json, and yarn is not on the PATH", result.Error, StringComparison.Ordinal);
        Assert.Contains("npm install --global yarn", result.Error, StringComparison.Ordinal);
        Assert.Contains("npm install --package-lock-only", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(app, "node", "node_modules")));
        Assert.Contains("No apps linked", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAppWithoutTypeScript_IsInstalledWithoutALockfile_ThenSaysHowToAddTypeScript()
    {
        var cli = _broker.Cli;
        var app = AppFixtures.WriteNode(cli.Root, "no-typescript", AppFixtures.GoodService);

        var result = await cli.RunAsync("link", "--path", app);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("(npm install --no-package-lock --no-audit --no-fund)...", result.Out, StringComparison.Ordinal);
        Assert.Contains("has no TypeScript", result.Error, StringComparison.Ordinal);
        Assert.Contains("npm install --save-dev typescript", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(app, "node", "package-lock.json")), "npm install wrote a lockfile into the app");
        Assert.Contains("No apps linked", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }
}
