using Herald.Broker.Admin;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

public sealed class RelinkTests
{
    private const string Subscription = "acme/dev/vtex.live-users/h";

    [Fact]
    public async Task AppUnlinkedAndLinkedAgain_KeepsItsBacklog()
    {
        await using var broker = await BrokerHarness.StartAsync();
        await using var app = await FakeApp.StartAsync();
        const string Service = """{"events":{"h":{"keys":["k"],"delivery":{"retries":50,"initialBackoffDelay":60000}}}}""";
        app.Respond = (_, _) => Task.FromResult(Results.StatusCode(503));
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", Service, app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        using (await broker.PublishAsync(token, "acme", "dev", "k", """{"n":1}"""))
        {
        }

        await Eventually.TrueAsync(() => app.Requests.Count == 1, "the first attempt");
        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Pending == 1 && s.InFlight == 0, "a pending retry");
        using (var unlink = broker.Admin(HttpMethod.Delete, "/_herald/v1/acme/dev/apps/vtex.live-users"))
        using (var unlinked = await broker.Client.SendAsync(unlink))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, unlinked.StatusCode);
        }

        Assert.DoesNotContain((await broker.AdminGetAsync<AppsResponse>("/_herald/v1/acme/dev/apps")).Apps, a => a.Sender == "vtex.live-users");

        await broker.LinkAsync("acme", "dev", "vtex", "live-users", Service, app.Endpoint);

        var subscription = await broker.SubscriptionAsync("acme", "dev", Subscription);
        Assert.Equal((1L, 0L), (subscription.Pending + subscription.InFlight, subscription.Dead));
    }

    [Fact]
    public async Task RelinkThatDropsAHandler_DeadLettersItsUndeliveredDeliveries_AsSubscriptionRemoved()
    {
        await using var broker = await BrokerHarness.StartAsync();
        await using var app = await FakeApp.StartAsync();
        app.Respond = (_, _) => Task.FromResult(Results.StatusCode(503));
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"],"delivery":{"retries":50,"initialBackoffDelay":60000}},"kept":{"keys":["other"]}}}""", app.Endpoint);
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        using (await broker.PublishAsync(token, "acme", "dev", "k", """{"n":1}"""))
        {
        }

        // Right after the publish the delivery is pending too: wait for the first attempt, then for its retry to be written.
        await Eventually.TrueAsync(() => app.Requests.Count == 1, "the first attempt");
        await Eventually.ReturnsAsync(() => broker.SubscriptionAsync("acme", "dev", Subscription), s => s.Pending == 1 && s.InFlight == 0, "a pending retry");

        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"kept":{"keys":["other"]}}}""", app.Endpoint);

        var dead = await broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters");
        var letter = Assert.Single(dead.DeadLetters);
        Assert.Equal(Subscription, letter.SubscriptionId);
        Assert.Equal("subscription-removed", letter.Reason);
        Assert.Single(letter.Attempts);
    }
}
