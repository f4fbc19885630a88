using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Herald.Cli.Tests;

/// <summary><c>herald link</c> with a real app: built with dotnet, run as a process, rebuilt on change, stopped and unlinked.</summary>
public sealed partial class LinkSessionTests : IClassFixture<BrokerFixture>
{
    private const string Project = """
        <Project Sdk="Microsoft.NET.Sdk.Web">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
          </PropertyGroup>
        </Project>
        """;

    private const string Program = """
        var app = WebApplication.CreateBuilder(args).Build();
        app.MapGet("/_herald/ready", () => "ready");
        var token = Environment.GetEnvironmentVariable("HERALD_APP_TOKEN");
        Console.WriteLine($"MARKER-1 in {Environment.GetEnvironmentVariable("HERALD_ACCOUNT")}/{Environment.GetEnvironmentVariable("HERALD_WORKSPACE")} token={(string.IsNullOrEmpty(token) ? "missing" : "set")} admin={(Environment.GetEnvironmentVariable("HERALD_ADMIN_TOKEN") is null ? "hidden" : "leaked")}");
        app.Run();
        """;

    private readonly BrokerFixture _broker;

    public LinkSessionTests(BrokerFixture broker) => _broker = broker;

    [GeneratedRegex(@"app on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex EndpointPattern();

    [Fact]
    public async Task Link_BuildsRunsRelinksOnChange_AndCtrlCStopsAndUnlinks()
    {
        var cli = _broker.Cli;
        Assert.Equal(0, (await cli.RunAsync("use", "link-test")).ExitCode);
        var app = AppFixtures.Write(cli.Root, "listener", AppFixtures.GoodManifest, AppFixtures.GoodService, Project, new Dictionary<string, string> { ["Program.cs"] = Program });
        using var stop = new CancellationTokenSource();

        var (output, error, run) = cli.Start(["link", "--path", app], stop.Token);
        await using var cleanup = new StopOnDispose(stop, run);
        string Text() => output.ToString() + error;
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("Watching ", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromMinutes(3), "the app to be linked");
        Assert.False(run.IsCompleted, Text());

        Assert.Contains("Linked acme.listener@0.1.0 in local/link-test", Text(), StringComparison.Ordinal);
        Assert.Contains("event handler onThing: thing-happened from acme.sender", Text(), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("[listener] MARKER-1 in local/link-test token=set admin=hidden", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the app's output");
        Assert.DoesNotContain(File.ReadAllText(Path.Combine(_broker.DataDirectory, "admin.token")).Trim(), Text(), StringComparison.Ordinal);
        var firstEndpoint = EndpointPattern().Match(Text()).Groups[1].Value;
        Assert.Contains("acme.listener", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);

        // A source change rebuilds, restarts and relinks the app.
        File.WriteAllText(Path.Combine(app, "dotnet", "Program.cs"), Program.Replace("MARKER-1", "MARKER-2", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("Relinked acme.listener@0.1.0", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromMinutes(3), "the relink");
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("[listener] MARKER-2", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the new build's output");
        await Eventually.TrueAsync(async () => !await TcpProbe.AnswersAsync(firstEndpoint), TimeSpan.FromSeconds(30), "the first process to be gone");

        // A change that breaks the build keeps the running app and says why.
        File.WriteAllText(Path.Combine(app, "dotnet", "Broken.cs"), "this is not C#");
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("keeps running the previous build", StringComparison.Ordinal)), TimeSpan.FromMinutes(3), "the build error");
        Assert.Contains("Broken.cs", error.ToString(), StringComparison.Ordinal);
        var endpoints = EndpointPattern().Matches(Text());
        var current = endpoints[^1].Groups[1].Value;
        Assert.True(await TcpProbe.AnswersAsync(current));

        await stop.CancelAsync();
        Assert.Equal(0, await run);
        Assert.Contains("Unlinked acme.listener from local/link-test.", Text(), StringComparison.Ordinal);
        Assert.False(await TcpProbe.AnswersAsync(current), "the app process still answers after Ctrl+C");
        Assert.Contains("No apps linked", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_AppDiesOnItsOwn_SaysSoAndRestartsAfterAFix()
    {
        var cli = _broker.Cli;
        var dying = Program.Replace("app.Run();", "app.MapGet(\"/die\", () => { _ = Task.Run(() => Environment.Exit(3)); return \"bye\"; });\napp.Run();", StringComparison.Ordinal);
        var app = AppFixtures.Write(cli.Root, "dying", AppFixtures.GoodManifest.Replace("listener", "dying", StringComparison.Ordinal), AppFixtures.GoodService, Project, new Dictionary<string, string> { ["Program.cs"] = dying });
        using var stop = new CancellationTokenSource();

        var (output, error, run) = cli.Start(["link", "--path", app], stop.Token);
        await using var cleanup = new StopOnDispose(stop, run);
        string Text() => output.ToString() + error;
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("Watching ", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromMinutes(3), "the app to be linked");
        Assert.False(run.IsCompleted, Text());
        var endpoint = EndpointPattern().Match(Text()).Groups[1].Value;

        using (var http = new HttpClient())
        {
            try
            {
                await http.GetAsync(new Uri(endpoint + "/die"));
            }
            catch (HttpRequestException)
            {
                // It may die before it answers.
            }
        }

        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("dying exited on its own (exit code 3)", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the exit to be reported");
        Assert.False(run.IsCompleted, "link gave up when the app died");

        File.WriteAllText(Path.Combine(app, "dotnet", "Program.cs"), Program);
        await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("Relinked acme.dying@0.1.0", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromMinutes(3), "the relink after the fix");
        Assert.False(run.IsCompleted, Text());

        await stop.CancelAsync();
        Assert.Equal(0, await run);
        Assert.Contains("Unlinked acme.dying", Text(), StringComparison.Ordinal);
    }

    /// <summary>Stops a link run even when an assertion fails, so no app process outlives the test.</summary>
    private sealed class StopOnDispose(CancellationTokenSource stop, Task<int> run) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await run;
        }
    }
}
