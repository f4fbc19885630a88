using Herald.Cli.Apps;
using Herald.Cli.Hosting;

namespace Herald.Cli.Tests;

public sealed class LinkValidationTests : IDisposable
{
    private const string BadService = """
        {
          "memory": 4096,
          "colour": "blue",
          "events": {
            "onThing": {"sender": "NotASender", "keys": ["bad key!"]},
            "noKeys": {}
          }
        }
        """;

    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Link_BadServiceJson_PrintsEveryErrorAndLinksNothing()
    {
        var app = AppFixtures.Write(_cli.WorkingDirectory, "bad-app", AppFixtures.GoodManifest, BadService);
        var closed = $"http://127.0.0.1:{FreePort.Next()}";

        var result = await _cli.RunAsync("link", "--path", app, "--broker", closed);

        // Validation comes first: exit 1 (the app), not 2 (the broker), and no build ran.
        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("Cannot reach", result.All, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(app, "dotnet", "obj")));
        var expected = Assert.Throws<AppInvalidException>(() => AppFolder.Load(app)).Errors;
        Assert.True(expected.Count >= 5, $"expected at least 5 errors, got {expected.Count}");
        foreach (var error in expected)
        {
            Assert.Equal("dotnet/service.json", error.File);
            Assert.Contains($"dotnet/service.json: {error.Path}: {error.Rule}", result.Error, StringComparison.Ordinal);
        }

        Assert.Contains("$.memory", result.Error, StringComparison.Ordinal);
        Assert.Contains("$.colour", result.Error, StringComparison.Ordinal);
        Assert.Contains("$.events.onThing.sender", result.Error, StringComparison.Ordinal);
        Assert.Contains("$.events.onThing.keys[0]", result.Error, StringComparison.Ordinal);
        Assert.Contains("$.events.noKeys", result.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was linked", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_BothFilesBad_ReportsErrorsOfBoth()
    {
        var app = AppFixtures.Write(_cli.WorkingDirectory, "both", """{"vendor": "Acme", "name": "x", "version": "one"}""", BadService);

        var result = await _cli.RunAsync("link", "--path", app, "--broker", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("manifest.json: $.vendor", result.Error, StringComparison.Ordinal);
        Assert.Contains("manifest.json: $.version", result.Error, StringComparison.Ordinal);
        Assert.Contains("dotnet/service.json: $.colour", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_NodeAppWithABadServiceJson_NamesNodeServiceJsonAndLinksNothing()
    {
        var app = AppFixtures.WriteNode(_cli.WorkingDirectory, "bad-node", BadService);

        var result = await _cli.RunAsync("link", "--path", app, "--broker", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("node/service.json: $.colour", result.Error, StringComparison.Ordinal);
        Assert.Contains("node/service.json: $.events.onThing.sender", result.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was linked", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(app, ".herald")));
    }

    [Theory]
    [InlineData("package.json", "No node/package.json in ")]
    [InlineData("tsconfig.json", "No node/tsconfig.json in ")]
    public async Task Link_NodeAppWithoutAFileItIsBuiltFrom_SaysWhichBeforeAnythingElse(string missing, string message)
    {
        var app = AppFixtures.WriteNode(_cli.WorkingDirectory, "partial-node", AppFixtures.GoodService);
        File.Delete(Path.Combine(app, "node", missing));

        var result = await _cli.RunAsync("link", "--path", app, "--broker", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message + app, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot reach", result.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_NotAnAppFolder_SaysWhatIsMissing()
    {
        var result = await _cli.RunAsync("link", "--broker", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No manifest.json in " + _cli.WorkingDirectory, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_ValidAppButNoBroker_SaysCannotReachBeforeBuilding()
    {
        var app = AppFixtures.Write(_cli.WorkingDirectory, "good", AppFixtures.GoodManifest, AppFixtures.GoodService);
        var closed = $"http://127.0.0.1:{FreePort.Next()}";

        var result = await _cli.RunAsync("link", "--path", app, "--broker", closed);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Cannot reach the Herald broker at {closed}.", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(app, "dotnet", "obj")));
    }

    [Fact]
    public async Task Unlink_WithoutName_ReadsTheManifestInTheCurrentFolder()
    {
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "manifest.json"), """{"vendor": "Bad Vendor", "name": "x", "version": "0.1.0"}""");

        var result = await _cli.RunAsync("unlink", "--broker", $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("manifest.json: $.vendor", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bin/Debug/net10.0/App.dll", false)]
    [InlineData("dotnet/obj/project.assets.json", false)]
    [InlineData(".git/index", false)]
    [InlineData("dotnet/Program.cs~", false)]
    [InlineData("dotnet/Program.cs", true)]
    [InlineData("dotnet/service.json", true)]
    [InlineData("manifest.json", true)]
    [InlineData("node/node_modules/@vtex/api/package.json", false)]
    [InlineData(".herald/node/run/service/src/node/index.js", false)]
    [InlineData("node/index.ts", true)]
    [InlineData("node/package.json", true)]
    public void IsSource_IgnoresBuildOutputAndHiddenFiles(string relative, bool expected)
    {
        var root = Path.Combine(_cli.WorkingDirectory, "app");
        using var broker = new BrokerClient(new BrokerTarget(new Uri("http://127.0.0.1:1"), null, "none", "local", "dev"));
        var session = new LinkSession(_cli.Environment(TextWriter.Null, TextWriter.Null), broker, root);

        Assert.Equal(expected, session.IsSource(Path.Combine(root, relative)));
    }
}
