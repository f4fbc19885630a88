using System.Net;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

/// <summary>Graceful shutdown (DESIGN §6): no new publishes, attempts in flight finish within a bound, the rest stay recoverable.</summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    private const string Listener = """{"events": {"h": {"sender": "vtex.events-example", "keys": ["send-event"], "delivery": {"timeout": 60000}}}}""";
    private const string SubscriptionId = "acme/dev/vtex.live-users/h";

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The broker's data outlives a broker: each test restarts on it.
    private readonly string _data = BrokerHarness.NewDataDirectory();
    private FakeApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = await FakeApp.StartAsync();
        _app.Respond = async (_, aborted) =>
        {
            await _release.Task.WaitAsync(aborted);
            return Results.NoContent();
        };
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _app.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    private static async Task<string> LinkBothAsync(BrokerHarness broker, Uri endpoint)
    {
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", Listener, endpoint);
        return (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", endpoint)).Token;
    }

    [Fact]
    public async Task Stopping_RefusesNewPublishesWith503_AndLetsTheAttemptInFlightFinish()
    {
        var broker = await BrokerHarness.StartAsync(configure: o => o.ShutdownGrace = TimeSpan.FromMinutes(2), dataDirectory: _data);
        await using var _ = broker;
        var token = await LinkBothAsync(broker, _app.Endpoint);
        using (var first = await broker.PublishAsync(token, "acme", "dev", "send-event", "{}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        await Eventually.TrueAsync(() => !_app.Requests.IsEmpty, "the attempt in flight");
        var stopping = broker.StopAsync();

        using var refused = await broker.PublishAsync(token, "acme", "dev", "send-event", "{}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("shutting down", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var beforeRelease = await broker.SubscriptionAsync("acme", "dev", SubscriptionId);
        Assert.Equal((0L, 1L), (beforeRelease.Delivered, beforeRelease.Pending + beforeRelease.InFlight));
        Assert.False(stopping.IsCompleted, "the broker waits for the attempt in flight");

        _release.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));

        await using var restarted = await BrokerHarness.StartAsync(dataDirectory: _data);
        var after = await restarted.SubscriptionAsync("acme", "dev", SubscriptionId);
        Assert.Equal((1L, 0L), (after.Delivered, after.Pending + after.InFlight));
        Assert.Single(_app.Requests);
    }

    [Fact]
    public async Task AnAttemptThatOutlivesTheGrace_IsAbandonedLeased_AndAttemptedAgainAfterRestart()
    {
        var broker = await BrokerHarness.StartAsync(configure: o => o.ShutdownGrace = TimeSpan.FromMilliseconds(200), dataDirectory: _data);
        string token;
        await using (broker)
        {
            token = await LinkBothAsync(broker, _app.Endpoint);
            using var accepted = await broker.PublishAsync(token, "acme", "dev", "send-event", "{}");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            await Eventually.TrueAsync(() => !_app.Requests.IsEmpty, "the attempt in flight");
            await broker.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        _release.SetResult();
        await using var restarted = await BrokerHarness.StartAsync(dataDirectory: _data);
        var after = await Eventually.ReturnsAsync(() => restarted.SubscriptionAsync("acme", "dev", SubscriptionId), s => s.Delivered == 1, "the abandoned delivery, attempted again");
        Assert.Equal((0L, 0L), (after.Pending + after.InFlight, after.Dead));
        Assert.Equal(2, _app.Requests.Count);
    }
}
