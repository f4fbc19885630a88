using Herald.Cli.Hosting;

namespace Herald.Cli.Tests;

public sealed class UnreachableBrokerTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("apps")]
    [InlineData("send", "send-event")]
    [InlineData("deadletters", "list")]
    [InlineData("deadletters", "redrive", "--id", "x")]
    [InlineData("unlink", "vtex.live-users")]
    [InlineData("tail")]
    public async Task Command_AgainstClosedPort_SaysCannotReachAndExits2(params string[] args)
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";

        var result = await _cli.RunAsync([.. args, "--broker", url]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"Cannot reach the Herald broker at {url}. Start it with 'herald up' (or pass --broker / set HERALD_BROKER_URL).",
            result.Error.Trim());
    }

    [Fact]
    public async Task BrokerFromVariable_AgainstClosedPort_NamesThatUrl()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        _cli.Variables["HERALD_BROKER_URL"] = url;

        var result = await _cli.RunAsync("apps");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"Cannot reach the Herald broker at {url}.", result.Error, StringComparison.Ordinal);
    }
}
