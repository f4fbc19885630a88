using System.Text.Json;

namespace Herald.Cli.Tests;

public sealed class ContextTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Whoami_WithNoContext_PrintsDefaults()
    {
        var result = await _cli.RunAsync("whoami");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("account:   local", result.Out, StringComparison.Ordinal);
        Assert.Contains("workspace: dev", result.Out, StringComparison.Ordinal);
        Assert.Contains("broker:    http://127.0.0.1:8080 (from default)", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Use_ValidNames_PersistsAndWhoamiShowsThem()
    {
        var use = await _cli.RunAsync("use", "staging", "--account", "acme");
        Assert.Equal(0, use.ExitCode);
        Assert.Contains("Now using workspace staging in account acme.", use.Out, StringComparison.Ordinal);

        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_cli.Home, "config.json")));
        Assert.Equal("acme", file.RootElement.GetProperty("account").GetString());
        Assert.Equal("staging", file.RootElement.GetProperty("workspace").GetString());

        var whoami = await _cli.RunAsync("whoami");
        Assert.Contains("account:   acme", whoami.Out, StringComparison.Ordinal);
        Assert.Contains("workspace: staging", whoami.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Use_WorkspaceOnly_KeepsTheAccount()
    {
        await _cli.RunAsync("use", "one", "--account", "acme");
        await _cli.RunAsync("use", "master");

        var whoami = await _cli.RunAsync("whoami");
        Assert.Contains("account:   acme", whoami.Out, StringComparison.Ordinal);
        Assert.Contains("workspace: master (production)", whoami.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Staging", null, "'Staging' is not a valid workspace name")]
    [InlineData("dev_1", null, "'dev_1' is not a valid workspace name")]
    [InlineData("dev", "ACME", "'ACME' is not a valid account name")]
    [InlineData("-dev", null, "'-dev' is not a valid workspace name")]
    public async Task Use_InvalidName_FailsAndChangesNothing(string workspace, string? account, string message)
    {
        await _cli.RunAsync("use", "before", "--account", "kept");
        var config = Path.Combine(_cli.Home, "config.json");
        var before = await File.ReadAllTextAsync(config);

        var result = await _cli.RunAsync(account is null ? ["use", workspace] : ["use", workspace, "--account", account]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Contains(Names.TenantRule, result.Error, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed.", result.Error, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(config));
    }

    [Fact]
    public async Task Use_InvalidName_WithNoContext_CreatesNoFile()
    {
        var result = await _cli.RunAsync("use", "NOPE");

        Assert.Equal(1, result.ExitCode);
        Assert.False(File.Exists(Path.Combine(_cli.Home, "config.json")));
    }

    [Fact]
    public async Task Whoami_BrokerPrecedence_OptionThenVariableThenContext()
    {
        new CliContext { Broker = "http://127.0.0.1:7001" }.Save(_cli.Home);
        Assert.Contains("http://127.0.0.1:7001 (from ", (await _cli.RunAsync("whoami")).Out, StringComparison.Ordinal);

        _cli.Variables["HERALD_BROKER_URL"] = "http://127.0.0.1:7002";
        Assert.Contains("http://127.0.0.1:7002 (from HERALD_BROKER_URL)", (await _cli.RunAsync("whoami")).Out, StringComparison.Ordinal);

        Assert.Contains("http://127.0.0.1:7003 (from --broker)", (await _cli.RunAsync("whoami", "--broker", "http://127.0.0.1:7003")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whoami_BadBrokerUrl_SaysWhatIsWrong()
    {
        var result = await _cli.RunAsync("whoami", "--broker", "ftp://nowhere");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'ftp://nowhere' is not a broker URL", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AdminToken_FromDataFolderOfContext_ElseVariable()
    {
        var data = Path.Combine(_cli.Root, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "admin.token"), "file-token\n");
        new CliContext { DataDirectory = data }.Save(_cli.Home);

        var fromFile = BrokerTarget.Resolve(_cli.Environment(TextWriter.Null, TextWriter.Null), null);
        Assert.Equal("file-token", fromFile.AdminToken);

        _cli.Variables["HERALD_ADMIN_TOKEN"] = "variable-token";
        var fromVariable = BrokerTarget.Resolve(_cli.Environment(TextWriter.Null, TextWriter.Null), null);
        Assert.Equal("variable-token", fromVariable.AdminToken);
    }

    [Fact]
    public async Task CorruptContextFile_SaysHowToRecover()
    {
        await File.WriteAllTextAsync(Path.Combine(_cli.Home, "config.json"), "{not json");

        var result = await _cli.RunAsync("whoami");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not valid JSON", result.Error, StringComparison.Ordinal);
        Assert.Contains("delete it", result.Error, StringComparison.Ordinal);
    }
}
