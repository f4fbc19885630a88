using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary>The tutorial, as a user does it: <c>herald up</c>, <c>herald link</c> in each sample, the healthcheck, the handler's line.</summary>
[Collection(SampleLinks.Name)]
public sealed class TutorialFlowTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task HandlerRuns_ForAnEventFiredAfterTheHealthcheckCall()
    {
        await using var liveUsers = Cli.Start(_broker, Repo.LiveUsersFolder, null, "link");
        await using var eventsExample = Cli.Start(_broker, Repo.EventsExampleFolder, new() { ["EVENTS_EXAMPLE_INTERVAL_SECONDS"] = "0.5" }, "link");

        var apps = await Eventually.ReturnsAsync(
            () => _broker.AdminAsync<AppsResponse>(HttpMethod.Get, "/_herald/v1/local/dev/apps"),
            a => a.Apps.Count == 2, "both samples linked in local/dev", TimeSpan.FromSeconds(180));
        Assert.Equal(["vtex.events-example", "vtex.live-users"], apps.Apps.Select(a => a.Sender));
        await eventsExample.WaitForLineAsync("no context in memory", TimeSpan.FromSeconds(60));
        Assert.Equal(0, liveUsers.Count("EVENT HANDLER: received event"));

        var ok = await _broker.Client.GetStringAsync("/local/dev/_v/app/events-example/hcheck");

        Assert.Equal("ok", ok);
        await liveUsers.WaitForLineAsync("EVENT HANDLER: received event", TimeSpan.FromSeconds(60));

        liveUsers.Terminate();
        eventsExample.Terminate();
        Assert.Equal(0, await liveUsers.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Equal(0, await eventsExample.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        var after = await _broker.AdminAsync<AppsResponse>(HttpMethod.Get, "/_herald/v1/local/dev/apps");
        Assert.Empty(after.Apps);
    }
}
