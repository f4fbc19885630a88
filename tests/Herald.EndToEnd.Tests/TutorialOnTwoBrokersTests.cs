using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.Broker.Admin;
using Herald.Storage.Nats.Tests.Fixtures;
using Xunit.Abstractions;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// The tutorial across two brokers: <c>herald up --store nats://...</c> twice, real processes with the same keys on one
/// 3-node R3 cluster, as behind a load balancer. events-example is linked (<c>herald link</c>) through broker A and
/// live-users through broker B; the healthcheck is called through B's router, events-example fires through A, and
/// live-users prints the handler's line for those events. The same listener linked in another workspace sees none of them.
/// </summary>
[Collection(SampleLinks.Name)]
public sealed partial class TutorialOnTwoBrokersTests(NatsClusterFixture nats, ITestOutputHelper output) : IClassFixture<NatsClusterFixture>, IAsyncLifetime
{
    private const string Account = "local";
    private const string Workspace = "dev";
    private const string OtherWorkspace = "other";
    private const string HandlerLine = "EVENT HANDLER: received event";
    private const int EventsToHandle = 3;
    private static readonly TimeSpan LinkDeadline = TimeSpan.FromSeconds(180);

    /// <summary>The SDK logs each handled event's id at Debug; the apps are asked for it so the ids can be matched.</summary>
    private static readonly Dictionary<string, string?> HandledEventIds = new() { ["Logging__LogLevel__Herald.Sdk.Events"] = "Debug" };

    private BrokerProcess? _a;
    private BrokerProcess? _b;
    private AppProcess? _otherWorkspaceListener;

    // The brokers start in the test, not here: xunit does not dispose a class whose InitializeAsync failed, so a broker
    // started here would outlive a failure to start the second.
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_otherWorkspaceListener is not null)
        {
            await _otherWorkspaceListener.DisposeAsync();
        }

        foreach (var broker in new[] { _b, _a })
        {
            if (broker is not null)
            {
                await broker.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task HandlerLinkedThroughBrokerB_RunsForEventsFiredThroughBrokerA_AfterTheHealthcheckThroughB_AndNoOtherWorkspaceSeesThem()
    {
        var a = _a = await BrokerProcess.StartAsync("--store", nats.ClientUrls);
        var b = _b = await BrokerProcess.StartAsync(a, "--store", nats.ClientUrls);

        // One link at a time: both build Herald's projects, which two builds at once could trip over.
        await using var liveUsers = Cli.Start(b, Repo.LiveUsersFolder, HandledEventIds, "link");
        await liveUsers.WaitForLineAsync("Linked vtex.live-users", LinkDeadline);
        await using var eventsExample = Cli.Start(a, Repo.EventsExampleFolder, new() { ["EVENTS_EXAMPLE_INTERVAL_SECONDS"] = "0.5" }, "link");
        await eventsExample.WaitForLineAsync("Linked vtex.events-example", LinkDeadline);
        _otherWorkspaceListener = await AppProcess.StartAsync(b, Repo.LiveUsersFolder, Account, OtherWorkspace, HandledEventIds);

        // Each broker follows the links made through the other, through the cluster.
        foreach (var broker in new[] { a, b })
        {
            var apps = await Eventually.ReturnsAsync(
                () => broker.AdminAsync<AppsResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{Workspace}/apps"),
                listed => listed.Apps.Count == 2, $"both samples listed by the broker on {broker.Url}");
            Assert.Equal(["vtex.events-example", "vtex.live-users"], apps.Apps.Select(app => app.Sender));
        }

        await eventsExample.WaitForLineAsync("no context in memory", TimeSpan.FromSeconds(60));
        Assert.Equal(0, liveUsers.Count(HandlerLine));

        // events-example was linked through A; B's router serves its route, with the token A issued.
        var ok = await b.Client.GetStringAsync($"/{Account}/{Workspace}/_v/app/events-example/hcheck");

        Assert.Equal("ok", ok);
        await liveUsers.WaitForLineAsync(HandlerLine, TimeSpan.FromSeconds(60));
        // The events events-example logged as fired through A (once A answered 202, which may be after live-users handled
        // them) that live-users handled. Not every event live-users handles need be logged as fired: a publish the cluster
        // is slow to confirm gets 503 and may still commit, and the client gives up after its retries (it logs "could not
        // fire send-event"), so its event can be delivered without its id ever reaching events-example.
        var handled = await Eventually.ReturnsAsync(
            () => Task.FromResult(HandledIds(liveUsers).Intersect(FiredIds(eventsExample, Workspace)).ToHashSet()),
            ids => ids.Count >= EventsToHandle,
            $"{EventsToHandle} events events-example fired through A in local/dev to be handled by live-users",
            TimeSpan.FromSeconds(60));
        Assert.True(liveUsers.Count(HandlerLine) >= handled.Count, $"live-users handled {handled.Count} events but printed the handler's line {liveUsers.Count(HandlerLine)} times");
        output.WriteLine($"live-users, linked through B, handled {handled.Count} events events-example fired through A: {string.Join(", ", handled)}");

        // Another workspace: its listener, linked through B and published to through A, handles its own event only.
        var other = await PublishToOtherWorkspaceAsync(a);
        await Eventually.TrueAsync(() => HandledIds(_otherWorkspaceListener.Process).Contains(other), $"the listener in {Account}/{OtherWorkspace} to handle the event published there");
        Assert.Equal(other, Assert.Single(HandledIds(_otherWorkspaceListener.Process)));
        Assert.DoesNotContain(other, HandledIds(liveUsers));
        Assert.Empty(FiredIds(eventsExample, OtherWorkspace));

        liveUsers.Terminate();
        eventsExample.Terminate();
        Assert.Equal(0, await liveUsers.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Equal(0, await eventsExample.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        // Each was unlinked through its own broker; both brokers see both unlinks.
        foreach (var broker in new[] { a, b })
        {
            await Eventually.ReturnsAsync(
                () => broker.AdminAsync<AppsResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{Workspace}/apps"),
                listed => listed.Apps.Count == 0, $"both samples unlinked on the broker on {broker.Url}");
        }
    }

    /// <summary>Publishes <c>send-event</c> as vtex.events-example in the other workspace through A, once A knows its listener.</summary>
    private static async Task<string> PublishToOtherWorkspaceAsync(BrokerProcess a)
    {
        await Eventually.ReturnsAsync(
            () => a.AdminAsync<AppsResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{OtherWorkspace}/apps"),
            listed => listed.Apps.Count == 1, $"broker A to know the listener linked in {Account}/{OtherWorkspace} through B");
        // A publish the cluster is slow to confirm gets 503 and may still commit: sent again with the same key until 202.
        var (_, body) = await Eventually.ReturnsAsync(
            () => a.TrySendAsync(Account, OtherWorkspace, "vtex.events-example", "send-event", """{"workspace":"other"}""", "two-broker-tutorial-other"),
            sent => sent.Status == HttpStatusCode.Accepted, $"the publish in {Account}/{OtherWorkspace} to be accepted");
        using var answer = JsonDocument.Parse(body);
        return answer.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The ids of the events the app's <c>liveUsersUpdate</c> handler returned from.</summary>
    private static HashSet<string> HandledIds(RunningProcess app) =>
        app.Lines.Select(l => HandledLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["id"].Value).ToHashSet();

    /// <summary>The ids of the <c>send-event</c> events events-example fired in <paramref name="workspace"/>, as it logged them.</summary>
    private static HashSet<string> FiredIds(RunningProcess eventsExample, string workspace) =>
        eventsExample.Lines.Select(l => FiredLine().Match(l)).Where(m => m.Success && m.Groups["workspace"].Value == $"{Account}/{workspace}").Select(m => m.Groups["id"].Value).ToHashSet();

    [GeneratedRegex(@"Handler 'liveUsersUpdate' handled event (?<id>\S+) ")]
    private static partial Regex HandledLine();

    [GeneratedRegex(@"fired send-event .* in (?<workspace>\S+): event (?<id>\S+)$")]
    private static partial Regex FiredLine();
}
