using System.Net;
using System.Net.Sockets;

namespace Herald.Cli.Tests;

public sealed class UpCommandTests
{
    [Fact]
    public async Task Up_CtrlC_StopsTheBrokerAndExits0()
    {
        var broker = new BrokerFixture();
        await broker.InitializeAsync();
        try
        {
            var exitCode = await broker.StopAsync();

            Assert.Equal(0, exitCode);
            Assert.Contains("Stopped.", broker.UpOutput!.ToString(), StringComparison.Ordinal);
            using var http = new HttpClient();
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri(new Uri(broker.Url), "/healthz")));
            Assert.True(File.Exists(Path.Combine(broker.DataDirectory, "admin.token")));
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Up_PortInUse_SaysSoAndExits2()
    {
        using var cli = new CliHarness();
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;

        var result = await cli.RunAsync("up", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", Path.Combine(cli.Root, "data"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"The broker cannot listen on http://127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.Home, "config.json")), "a failed up must not record its URL");
    }

    [Fact]
    public async Task Up_WithAStoreThatIsNeitherSqliteNorNats_SaysWhatIsAcceptedAndExits1()
    {
        using var cli = new CliHarness();

        var result = await cli.RunAsync("up", "--port", "0", "--store", "postgres://127.0.0.1:5432", "--data", Path.Combine(cli.Root, "data"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--store must be 'sqlite' or NATS URLs with ports", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cli.Root, "data")), "a refused up must not make its data folder");
    }

    [Fact]
    public async Task Up_WithANatsStoreNobodyListensOn_SaysTheStoreCannotBeOpenedAndExits2()
    {
        using var cli = new CliHarness();
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var result = await cli.RunAsync("up", "--port", "0", "--store", $"nats://127.0.0.1:{port}", "--data", Path.Combine(cli.Root, "data"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("The broker cannot open its store.", result.Error, StringComparison.Ordinal);
        Assert.Contains($"nats://127.0.0.1:{port}", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cli.Home, "config.json")), "a failed up must not record its URL");
    }
}
