using System.Net;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

/// <summary>A subscriber that stays down holds only its own backlog, in the store; publishing and other subscribers go on.</summary>
public sealed class BackPressureTests
{
    private const int Events = 1000;

    [Fact]
    public async Task ASubscriberThatHangs_GetsOnlyItsConcurrency_WhilePublishingAndAnotherSubscriberGoOn()
    {
        // Declared first so it is disposed last: the broker's shutdown aborts the attempts it holds open.
        await using var hanging = await FakeApp.StartAsync();
        await using var healthy = await FakeApp.StartAsync();
        await using var broker = await BrokerHarness.StartAsync(configure: o => o.ShutdownGrace = TimeSpan.FromMilliseconds(100));
        hanging.Respond = async (_, aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.NoContent();
        };
        await broker.LinkAsync("acme", "dev", "vtex", "down", """{"events": {"h": {"keys": ["k"], "delivery": {"timeout": 60000, "concurrency": 2}}}}""", hanging.Endpoint);
        await broker.LinkAsync("acme", "dev", "vtex", "up", """{"events": {"h": {"keys": ["k"], "delivery": {"concurrency": 10}}}}""", healthy.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", healthy.Endpoint)).Token;

        var statuses = new HttpStatusCode[Events];
        await Parallel.ForAsync(0, Events, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            using var response = await broker.PublishAsync(token, "acme", "dev", "k", $$"""{"n": {{i}}}""");
            statuses[i] = response.StatusCode;
        });

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));
        var up = await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.up/h"), s => s.Delivered == Events, "every event delivered to the healthy subscriber", TimeSpan.FromSeconds(60));
        Assert.Equal((0L, 0L), (up.Pending + up.InFlight, up.Dead));
        Assert.Equal(Events, healthy.Requests.Select(r => r.Headers[Protocol.HeraldHeaders.EventId]).Distinct().Count());

        await Eventually.TrueAsync(() => hanging.Requests.Count == 2, "the hanging subscriber's two attempts");
        var down = await broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.down/h");
        Assert.Equal((0L, 0L, 2L, Events - 2L), (down.Delivered, down.Dead, down.InFlight, down.Pending));
        Assert.Equal(2, hanging.Requests.Count);
    }
}
