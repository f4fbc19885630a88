using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Herald.Cli.Tests;

/// <summary><c>herald demo</c> with the repository's samples: everything runs, events flow, nothing is left behind.</summary>
public sealed partial class DemoTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [GeneratedRegex(@"data in (\S+);")]
    private static partial Regex DataPattern();

    [GeneratedRegex(@"app on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex EndpointPattern();

    [GeneratedRegex(@"Broker on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex BrokerPattern();

    [Fact]
    public async Task Demo_WithEvents_ShowsTheFlowAndStopsCleanly()
    {
        // The samples are found by walking up from the test assembly's folder (the repository's samples/).
        var result = await _cli.RunAsync("demo", "--interval", "1", "--events", "2");

        Assert.True(result.ExitCode == 0, result.All);
        var text = result.Out;
        Assert.Contains("Linked vtex.live-users@0.1.0 in local/demo-", text, StringComparison.Ordinal);
        Assert.Contains("Linked vtex.events-example@0.1.0 in local/demo-", text, StringComparison.Ordinal);
        Assert.Matches(@"GET http://127\.0\.0\.1:\d+/local/demo-[a-z0-9]{4}/_v/app/events-example/hcheck: ok", text);
        Assert.Contains("fired      send-event from vtex.events-example", text, StringComparison.Ordinal);
        Assert.Contains("delivered  send-event to vtex.live-users/liveUsersUpdate, attempt 1", text, StringComparison.Ordinal);
        Assert.Contains("[live-users] EVENT HANDLER: received event", text, StringComparison.Ordinal);
        Assert.Contains("2 events handled in", text, StringComparison.Ordinal);

        // Nothing left behind: the temporary folder, the apps and the broker are gone.
        Assert.False(Directory.Exists(DataPattern().Match(text).Groups[1].Value));
        foreach (Match endpoint in EndpointPattern().Matches(text))
        {
            Assert.False(await TcpProbe.AnswersAsync(endpoint.Groups[1].Value), $"{endpoint.Groups[1].Value} still answers");
        }

        Assert.False(await TcpProbe.AnswersAsync(BrokerPattern().Match(text).Groups[1].Value));
    }
}
