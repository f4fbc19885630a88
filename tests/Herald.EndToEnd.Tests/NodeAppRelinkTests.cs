using System.Net.Sockets;
using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary><c>herald link</c> of a VTEX IO node app over its life: a source edit relinks it, a type error keeps it, Ctrl+C unlinks it.</summary>
public sealed class NodeAppRelinkTests : IAsyncLifetime
{
    private readonly NodeAppCopy _app = new();
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _app.Dispose();
    }

    [Fact]
    public async Task AnEdit_RecompilesRestartsAndRelinks_ATypeErrorKeepsTheApp_CtrlCUnlinks_AndTheNextLinkReusesTheInstall()
    {
        await using var link = Cli.Start(_broker, _app.Root, null, "link");
        try
        {
            var first = NodeAppCopy.Endpoint(await link.WaitForLineAsync("Linked test.node-app@0.1.0 in local/dev", TimeSpan.FromMinutes(5)));
            await link.WaitForLineAsync("Watching ");
            Assert.Equal(1, link.Count("Installing the dependencies of"));
            Assert.StartsWith("hello ada", await HelloAsync(), StringComparison.Ordinal);

            // A source edit recompiles node/, restarts the app on a new port and relinks it.
            await File.WriteAllTextAsync(Path.Combine(_app.Root, "node", "greeting.ts"), "export const greeting = 'howdy'\n");
            var relinked = NodeAppCopy.Endpoint(await link.WaitForLineAsync("Relinked test.node-app@0.1.0", TimeSpan.FromMinutes(2)));
            Assert.Equal("howdy ada from test.node-app@0.1.0 in local/dev", await HelloAsync());
            Assert.NotEqual(first, relinked);
            await Eventually.ReturnsAsync(() => AnswersAsync(first), answers => !answers, "the first app process to be gone");
            Assert.Equal(1, link.Count("Installing the dependencies of"));

            // A type error is reported; the running app stays.
            await File.WriteAllTextAsync(Path.Combine(_app.Root, "node", "broken.ts"), "export const n: number = 'one'\n");
            await link.WaitForLineAsync("keeps running the previous build", TimeSpan.FromMinutes(2));
            Assert.Contains(link.Lines, l => l.Contains("node/broken.ts(1,", StringComparison.Ordinal) && l.Contains("error TS2322", StringComparison.Ordinal));
            Assert.Equal("howdy ada from test.node-app@0.1.0 in local/dev", await HelloAsync());

            // Ctrl+C stops the app and unlinks it.
            link.Terminate();
            Assert.Equal(0, await link.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains(link.Lines, l => l.Contains("Unlinked test.node-app from local/dev.", StringComparison.Ordinal));
            Assert.False(await AnswersAsync(relinked), "the app process still answers after Ctrl+C");
            Assert.Empty((await _broker.AdminAsync<AppsResponse>(HttpMethod.Get, "/_herald/v1/local/dev/apps")).Apps);
        }
        finally
        {
            link.Terminate();
            await link.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        // Linked again, the app's dependencies are already installed for the same package.json and lockfile.
        File.Delete(Path.Combine(_app.Root, "node", "broken.ts"));
        await using var again = Cli.Start(_broker, _app.Root, null, "link");
        try
        {
            await again.WaitForLineAsync("Watching ", TimeSpan.FromMinutes(2));
            Assert.Equal(0, again.Count("Installing the dependencies of"));
            Assert.Equal("howdy ada from test.node-app@0.1.0 in local/dev", await HelloAsync());
        }
        finally
        {
            again.Terminate();
            Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }
    }

    private Task<string> HelloAsync() => _broker.Client.GetStringAsync("/local/dev/_v/node-app/hello/ada");

    private static async Task<bool> AnswersAsync(string endpoint)
    {
        var url = new Uri(endpoint);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(url.Host, url.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
