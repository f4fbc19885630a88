using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.Broker.Admin;
using Herald.Cli.Hosting;

namespace Herald.Cli.Tests;

/// <summary>The commands against a real broker started with <c>herald up</c> in this process.</summary>
public sealed partial class BrokerCommandTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _broker;

    public BrokerCommandTests(BrokerFixture broker) => _broker = broker;

    private CliHarness Cli => _broker.Cli;

    [GeneratedRegex(@"event (\S+),")]
    private static partial Regex EventIdPattern();

    private async Task UseFreshWorkspaceAsync()
    {
        var workspace = "t-" + Guid.NewGuid().ToString("N")[..10];
        Assert.Equal(0, (await Cli.RunAsync("use", workspace)).ExitCode);
    }

    private async Task<LinkResponse> LinkUnreachableAppAsync(string service)
    {
        var target = BrokerTarget.Resolve(Cli.Environment(TextWriter.Null, TextWriter.Null), null);
        using var client = new BrokerClient(target);
        using var manifest = JsonDocument.Parse(AppFixtures.GoodManifest);
        using var serviceJson = JsonDocument.Parse(service);
        return await client.LinkAsync(
            "acme.listener",
            new LinkRequest(manifest.RootElement.Clone(), serviceJson.RootElement.Clone(), $"http://127.0.0.1:{FreePort.Next()}"),
            CancellationToken.None);
    }

    [Fact]
    public async Task Up_PrintsWhereItListensAndRecordsTheContext()
    {
        await Eventually.TrueAsync(() => Task.FromResult(_broker.UpOutput!.ToString().Contains("Herald broker listening on " + _broker.Url, StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "up's banner");
        Assert.Contains("Data in " + _broker.DataDirectory, _broker.UpOutput!.ToString(), StringComparison.Ordinal);
        Assert.Contains($"Dashboard: {_broker.Url}/_herald/ui", _broker.UpOutput!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_broker.AdminToken, _broker.UpOutput.ToString(), StringComparison.Ordinal);
        var whoami = await Cli.RunAsync("whoami");
        Assert.Contains($"broker:    {_broker.Url} (from ", whoami.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apps_EmptyWorkspace_SaysNoApps()
    {
        await UseFreshWorkspaceAsync();

        var result = await Cli.RunAsync("apps");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("No apps linked in local/t-", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_NoSubscribers_PrintsIdAndZeroDeliveries()
    {
        await UseFreshWorkspaceAsync();

        var result = await Cli.RunAsync("send", "send-event", "--data", """{"hello":"world"}""", "--subject", "s-1");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"Sent send-event from herald\.cli in local/t-\w+: event \S+, 0 deliveries\.", result.Out);
    }

    [Fact]
    public async Task LinkedSubscription_SendApps_DeadLetterList_Redrive_Unlink()
    {
        await UseFreshWorkspaceAsync();
        await LinkUnreachableAppAsync("""
            {"events": {"onThing": {"sender": "acme.sender", "keys": ["thing-happened"],
              "delivery": {"retries": 0, "timeout": 2000}}}}
            """);

        var apps = await Cli.RunAsync("apps");
        Assert.Equal(0, apps.ExitCode);
        Assert.Matches(@"acme\.listener\S*\s+http://127\.0\.0\.1:\d+\s+onThing\s+acme\.sender\s+thing-happened\s+\d+\s+\d+\s+\d+\s+\d+", apps.Out);

        var send = await Cli.RunAsync("send", "thing-happened", "--sender", "acme.sender", "--data", """{"n": 1}""");
        Assert.Equal(0, send.ExitCode);
        Assert.Contains("1 delivery.", send.Out, StringComparison.Ordinal);
        var eventId = EventIdPattern().Match(send.Out).Groups[1].Value;

        // Nothing listens at the app's endpoint and retries are 0: the delivery dies on its first attempt.
        var list = await Eventually.GetAsync(
            async () =>
            {
                var result = await Cli.RunAsync("deadletters", "list");
                return result.ExitCode == 0 && result.Out.Contains(eventId, StringComparison.Ordinal) ? result : null;
            },
            TimeSpan.FromSeconds(60),
            "the delivery to be dead-lettered");
        Assert.Contains("onThing", list.Out, StringComparison.Ordinal);
        Assert.Contains("thing-happened from acme.sender", list.Out, StringComparison.Ordinal);
        Assert.Contains("attempt 1 at", list.Out, StringComparison.Ordinal);
        Assert.Contains("1 dead letter in", list.Out, StringComparison.Ordinal);
        var deadLetterId = list.Out.Split(' ', 2)[0];

        var limited = await Cli.RunAsync("deadletters", "list", "--limit", "1");
        Assert.Equal(0, limited.ExitCode);
        Assert.Contains(eventId, limited.Out, StringComparison.Ordinal);

        var redrive = await Cli.RunAsync("deadletters", "redrive", "--id", deadLetterId);
        Assert.Equal(0, redrive.ExitCode);
        Assert.Contains("Redrove 1 dead letter in", redrive.Out, StringComparison.Ordinal);

        // Still nobody listens: the redriven delivery dies again; replay resets it once more, then purge deletes it.
        await WaitDeadAsync(eventId);
        var replay = await Cli.RunAsync("replay", "acme.listener/onThing", "--since", "1h");
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("Replaying 1 event to acme.listener/onThing in", replay.Out, StringComparison.Ordinal);
        await WaitDeadAsync(eventId);
        var purge = await Cli.RunAsync("deadletters", "purge", "--subscription", "acme.listener/onThing");
        Assert.Equal(0, purge.ExitCode);
        Assert.Contains("Purged 1 dead letter in", purge.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(eventId, (await Cli.RunAsync("deadletters", "list")).Out, StringComparison.Ordinal);

        var unlink = await Cli.RunAsync("unlink", "acme.listener");
        Assert.Equal(0, unlink.ExitCode);
        Assert.Contains("Unlinked acme.listener from local/", unlink.Out, StringComparison.Ordinal);
        Assert.Contains("No apps linked", (await Cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redrive_BySubscription_GoesInBatchesWithProgress_AndTakesEachLetterOnce()
    {
        await UseFreshWorkspaceAsync();
        await LinkUnreachableAppAsync("""
            {"events": {"onThing": {"sender": "acme.sender", "keys": ["thing-happened"],
              "delivery": {"retries": 0, "timeout": 2000}}}}
            """);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, (await Cli.RunAsync("send", "thing-happened", "--sender", "acme.sender", "--data", "{}")).ExitCode);
        }

        await Eventually.GetAsync(
            async () => (await Cli.RunAsync("deadletters", "list")).Out.Contains("5 dead letters in", StringComparison.Ordinal) ? "five" : null,
            TimeSpan.FromSeconds(60),
            "five dead letters");

        // Nobody listens, so redriven letters die again while the redrive runs; each is still taken once.
        var redrive = await Cli.RunAsync("deadletters", "redrive", "--subscription", "acme.listener/onThing", "--batch", "2");

        Assert.Equal(0, redrive.ExitCode);
        Assert.Contains("Redriving: 2 of 5 dead letters (40%)", redrive.Error, StringComparison.Ordinal);
        Assert.Contains("Redriving: 4 of 5 dead letters (80%)", redrive.Error, StringComparison.Ordinal);
        Assert.Contains("Redrove 5 dead letters in", redrive.Out, StringComparison.Ordinal);

        var badBatch = await Cli.RunAsync("deadletters", "purge", "--subscription", "acme.listener/onThing", "--batch", "0");
        Assert.Equal(1, badBatch.ExitCode);
        Assert.Contains("--batch must be from 1 to 10000; found 0.", badBatch.Error, StringComparison.Ordinal);
    }

    private async Task WaitDeadAsync(string eventId) =>
        await Eventually.GetAsync(
            async () =>
            {
                var result = await Cli.RunAsync("deadletters", "list");
                return result.ExitCode == 0 && result.Out.Contains(eventId, StringComparison.Ordinal) ? result : null;
            },
            TimeSpan.FromSeconds(60),
            "the delivery to be dead-lettered");

    [Fact]
    public async Task Tail_PrintsEachPublishedEvent()
    {
        await UseFreshWorkspaceAsync();
        using var stop = new CancellationTokenSource();
        var (output, error, run) = Cli.Start(["tail", "--keys", "tail-me"], stop.Token);
        await Eventually.TrueAsync(() => Task.FromResult(output.ToString().Contains("Tailing events in", StringComparison.Ordinal) || run.IsCompleted), TimeSpan.FromSeconds(30), "tail to connect");
        Assert.False(run.IsCompleted, output.ToString() + error);

        Assert.Equal(0, (await Cli.RunAsync("send", "other-key", "--data", """{"skip": true}""")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("send", "tail-me", "--data", """{"n": 7}""", "--subject", "sub-7")).ExitCode);
        await Eventually.TrueAsync(() => Task.FromResult(output.ToString().Contains("tail-me", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the event in the tail");

        await stop.CancelAsync();
        Assert.Equal(0, await run);
        Assert.Contains("herald.cli  tail-me [sub-7]  {\"n\":7}", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("other-key", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongAdminToken_PrintsTheBrokersDetailAndWhereTheTokenCameFrom()
    {
        Cli.Variables["HERALD_ADMIN_TOKEN"] = "not-the-token";
        try
        {
            var result = await Cli.RunAsync("apps");

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("The admin token from HERALD_ADMIN_TOKEN was refused", result.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("not-the-token", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            Cli.Variables.Remove("HERALD_ADMIN_TOKEN");
        }
    }

    [Fact]
    public async Task Link_InvalidApp_WithBrokerRunning_LinksNothing()
    {
        await UseFreshWorkspaceAsync();
        var app = AppFixtures.Write(Cli.WorkingDirectory, "invalid-" + Guid.NewGuid().ToString("N")[..6], AppFixtures.GoodManifest, """{"events": {"x": {"keys": []}}}""");

        var result = await Cli.RunAsync("link", "--path", app);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("dotnet/service.json: $.events.x.keys", result.Error, StringComparison.Ordinal);
        Assert.Contains("No apps linked", (await Cli.RunAsync("apps")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlink_UnknownApp_PrintsTheBrokersDetail()
    {
        await UseFreshWorkspaceAsync();

        var result = await Cli.RunAsync("unlink", "acme.never-linked");

        Assert.Equal(1, result.ExitCode);
        Assert.NotEmpty(result.Error.Trim());
        Assert.DoesNotContain("Cannot reach", result.Error, StringComparison.Ordinal);
    }
}
