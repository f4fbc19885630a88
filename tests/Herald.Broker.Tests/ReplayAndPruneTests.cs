using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Admin;
using Herald.Storage;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Broker.Tests;

public sealed class ReplayAndPruneTests
{
    private const string Subscription = "acme/dev/vtex.live-users/h";

    [Fact]
    public async Task Replay_DeliversAgainEveryEventRoutedToTheSubscriptionSinceTheTime_DeliveredOnesIncluded()
    {
        await using var broker = await BrokerHarness.StartAsync();
        await using var app = await FakeApp.StartAsync();
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"]},"other":{"keys":["k"]}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i < 3; i++)
        {
            using var _ = await broker.PublishAsync(token, "acme", "dev", "k", $$"""{"n":{{i}}}""");
        }

        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Delivered == 3, "first deliveries");

        using var request = broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/apps/vtex.live-users/subscriptions/h/replay");
        request.Content = JsonContent.Create(new ReplayRequest(since));
        using var response = await broker.Client.SendAsync(request);

        Assert.Equal(3, (await response.Content.ReadFromJsonAsync<ReplayResponse>())!.Replayed);
        await Eventually.TrueAsync(() => app.Requests.Count(r => r.Headers[HeraldHeaders.EventHandlerId] == "h") == 6, "every event delivered again to h");
        var other = await broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/other");
        Assert.Equal(3, app.Requests.Count(r => r.Headers[HeraldHeaders.EventHandlerId] == "other"));
        Assert.Equal(3, other.Delivered);
    }

    [Fact]
    public async Task Replay_OfAnUnknownSubscription_Is404()
    {
        await using var broker = await BrokerHarness.StartAsync();
        using var request = broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/apps/vtex.nobody/subscriptions/h/replay");
        request.Content = JsonContent.Create(new ReplayRequest(DateTimeOffset.UtcNow));

        using var response = await broker.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Purge_DeletesDeadLettersForGood()
    {
        await using var broker = await BrokerHarness.StartAsync();
        await using var app = await FakeApp.StartAsync();
        app.Respond = (_, _) => Task.FromResult(Results.StatusCode(400));
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"]}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        using (await broker.PublishAsync(token, "acme", "dev", "k", "{}"))
        {
        }

        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Dead == 1, "dead");
        using var request = broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/deadletters/purge");
        request.Content = JsonContent.Create(new RedriveRequest(null, Subscription, null));
        using var response = await broker.Client.SendAsync(request);

        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<PurgeResponse>())!.Purged);
        Assert.Empty((await broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters")).DeadLetters);
        Assert.Equal(0, (await broker.SubscriptionAsync("acme", "dev", Subscription)).Dead);
    }

    [Fact]
    public async Task PruningJob_DeletesDeliveredEventsPastRetention_WhenItsIntervalPasses()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = await BrokerHarness.StartAsync(clock, o =>
        {
            o.Retention = TimeSpan.FromDays(7);
            o.PruneInterval = TimeSpan.FromMinutes(1);
        });
        await using var app = await FakeApp.StartAsync();
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"]}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        using (await broker.PublishAsync(token, "acme", "dev", "k", "{}"))
        {
        }

        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Delivered == 1, "delivered");
        clock.Advance(TimeSpan.FromDays(6));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, (await broker.SubscriptionAsync("acme", "dev", Subscription)).Delivered);

        clock.Advance(TimeSpan.FromDays(1));
        clock.Advance(TimeSpan.FromMinutes(1));

        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Delivered == 0, "pruned");
        var store = broker.Services.GetRequiredService<IRetentionStore>();
        Assert.Equal(0, await store.ReplayAsync(Subscription, DateTimeOffset.MinValue));
    }
}
