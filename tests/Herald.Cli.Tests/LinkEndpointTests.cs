using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Tests;

/// <summary><c>herald link --endpoint</c>: an app that runs on its own, here a plain Kestrel app that knows nothing of Herald.</summary>
public sealed class LinkEndpointTests : IClassFixture<BrokerFixture>
{
    private const string Manifest = """
        {"vendor": "acme", "name": "plain", "version": "1.0.0", "builders": {"node": "6.x"}}
        """;

    private const string Service = """
        {"stack": "nodejs", "routes": {"hello": {"path": "/_v/plain/hello", "public": true}},
         "events": {"onThing": {"sender": "acme.sender", "keys": ["thing-happened"]}}}
        """;

    private readonly BrokerFixture _broker;

    public LinkEndpointTests(BrokerFixture broker) => _broker = broker;

    [Fact]
    public async Task AnAppThatRunsOnItsOwn_IsLinked_GetsRoutesAndDeliveries_AndCtrlCUnlinksIt()
    {
        var cli = _broker.Cli;
        Assert.Equal(0, (await cli.RunAsync("use", "endpoint-test")).ExitCode);
        await using var plain = await PlainApp.StartAsync();
        var folder = WriteApp(cli.Root, "plain");
        using var stop = new CancellationTokenSource();

        var (output, error, run) = cli.Start(["link", "--endpoint", plain.Url, "--path", folder], stop.Token);
        string Text() => output.ToString() + error;
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(Text().Contains("Press Ctrl+C to unlink.", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromSeconds(60), "the link");
            Assert.False(run.IsCompleted, Text());
            Assert.Contains($"Linked acme.plain@1.0.0 in local/endpoint-test (app on {plain.Url})", Text(), StringComparison.Ordinal);
            Assert.Contains("HERALD_APP_TOKEN=hat_", Text(), StringComparison.Ordinal);
            Assert.Contains("HERALD_SIGNING_SECRETS=whsec_", Text(), StringComparison.Ordinal);

            // The broker routes to the app and delivers its events; nothing was built or started.
            using var http = new HttpClient();
            Assert.Equal("hello from plain in local", await http.GetStringAsync(new Uri(new Uri(_broker.Url), "/local/endpoint-test/_v/plain/hello")));
            Assert.Equal(0, (await cli.RunAsync("send", "thing-happened", "--sender", "acme.sender", "--data", """{"n":1}""")).ExitCode);
            await Eventually.TrueAsync(() => Task.FromResult(plain.Deliveries.Contains("onThing thing-happened")), TimeSpan.FromSeconds(30), "the delivery");
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.Equal(0, await run);
        Assert.Contains("Unlinked acme.plain from local/endpoint-test.", Text(), StringComparison.Ordinal);
        Assert.Contains("No apps linked", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_IsRefused_AndNothingIsLinked()
    {
        var cli = _broker.Cli;
        Assert.Equal(0, (await cli.RunAsync("use", "endpoint-missing")).ExitCode);
        var folder = WriteApp(cli.Root, "absent");
        string url;
        await using (var gone = await PlainApp.StartAsync())
        {
            url = gone.Url;
        }

        var result = await cli.RunAsync("link", "--endpoint", url, "--path", folder);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Nothing answers HTTP at {url}", result.Error, StringComparison.Ordinal);
        Assert.Contains("No apps linked", (await cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:5000")]
    [InlineData("ftp://127.0.0.1:5000")]
    [InlineData("http://127.0.0.1:5000/app")]
    public async Task ABadEndpoint_IsRefused_BeforeAnyRequest(string endpoint)
    {
        var cli = _broker.Cli;
        var folder = WriteApp(cli.Root, "bad-endpoint-" + Guid.NewGuid().ToString("N")[..6]);

        var result = await cli.RunAsync("link", "--endpoint", endpoint, "--path", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"--endpoint '{endpoint}' is not an app's base URL", result.Error, StringComparison.Ordinal);
    }

    private static string WriteApp(string parent, string name)
    {
        var root = Path.Combine(parent, name);
        Directory.CreateDirectory(Path.Combine(root, "node"));
        File.WriteAllText(Path.Combine(root, "manifest.json"), Manifest);
        File.WriteAllText(Path.Combine(root, "node", "service.json"), Service);
        return root;
    }

    /// <summary>A Kestrel app with one route and an events endpoint, started by the test.</summary>
    private sealed class PlainApp : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private PlainApp(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentBag<string> Deliveries { get; } = [];

        public static async Task<PlainApp> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            PlainApp? plain = null;
            app.MapGet("/_v/plain/hello", (HttpRequest request) => $"hello from plain in {request.Headers["x-vtex-account"]}");
            app.MapPost("/{account}/{workspace}/_events", (HttpRequest request) =>
            {
                plain!.Deliveries.Add($"{request.Headers["x-event-handler-id"]} {request.Headers["x-event-key"]}");
                return Results.NoContent();
            });
            await app.StartAsync();
            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            plain = new PlainApp(app, url);
            return plain;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
